// Crash-harness writer: appends batches forever and prints one line per acknowledged sample,
//   ACK <series> <ts_ns>
// written with a single write(2) after the durable callback, so a SIGKILL can never leave an ACK
// line for a sample that was not acknowledged. Usage: historian_crash_writer DIR ROUND SEED
// Round r writes timestamps in [r * 1e12, (r + 1) * 1e12), so rounds never overwrite each other.

#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "crash_oracle.h"
#include "resonance/historian/historian.h"

using namespace resonance;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR ROUND SEED\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // stdout belongs to the ACK protocol
  HistorianOptions o;
  o.dir = argv[1];
  o.durability = Durability::kSync;
  o.group_commit_interval_us = 1000;
  o.wal_segment_bytes = 64 << 10;  // small, so kills land around rotations too
  auto opened = open_historian(o);
  if (!opened) {
    std::fprintf(stderr, "open failed: %s\n", opened.error().to_string().c_str());
    return 1;
  }
  Historian& h = **opened;
  const TimestampNs base = std::stoll(argv[2]) * 1'000'000'000'000;
  std::uint64_t rng = std::stoull(argv[3]);
  for (TimestampNs next = 0;;) {
    rng = historian::crash::splitmix64(rng);
    SampleBatch b;
    b.provenance.connector = "crash";
    b.provenance.client_id = "writer";
    const int n = 1 + static_cast<int>(rng % 40);
    for (int i = 0; i < n; ++i, ++next) {
      const auto series = static_cast<SeriesId>(1 + static_cast<SeriesId>(next) % historian::crash::kSeriesCount);
      const TimestampNs ts = base + next;
      b.samples.push_back(Sample{series, ts, std::bit_cast<double>(historian::crash::value_bits(series, ts)),
                                 Quality{historian::crash::quality(series, ts)}});
    }
    std::string acks;
    for (const auto& s : b.samples) acks += "ACK " + std::to_string(s.series) + " " + std::to_string(s.ts_ns) + "\n";
    for (;;) {
      const auto a = h.submit(SampleBatch(b), [acks](const Status& st) {
        if (!st) {
          std::fprintf(stderr, "not durable: %s\n", st.to_string().c_str());
          std::_Exit(3);
        }
        // One write per batch: whole lines only, since a pipe write up to PIPE_BUF is atomic and the
        // reader re-splits anyway.
        for (std::size_t off = 0; off < acks.size();) {
          const ssize_t w = ::write(STDOUT_FILENO, acks.data() + off, acks.size() - off);
          if (w <= 0) std::_Exit(4);
          off += static_cast<std::size_t>(w);
        }
      });
      if (a == Admission::kAccepted) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (rng % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng % 2000));
  }
}
