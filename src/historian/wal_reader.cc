#include "historian/wal_reader.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "historian/wal_writer.h"

namespace resonance::historian {

Result<WalRecovery> recover_wal(Env& env, const std::filesystem::path& wal_dir,
                                const std::function<void(WalRecord&&)>& on_record) {
  auto names = env.list_dir(wal_dir);
  if (!names) return error(names.error());
  std::vector<std::uint32_t> segments;
  for (const auto& name : *names) {
    if (auto number = parse_segment_file_name(name)) {
      segments.push_back(*number);
    } else if (name.ends_with(kDeletingSegmentSuffix)) {
      // A covered segment whose deletion a crash interrupted; out of the log since its rename.
      if (Status s = env.remove(wal_dir / name); !s) return error(std::move(s));
    } else {
      spdlog::warn("historian: ignoring unexpected file {} in {}", name, wal_dir.string());
    }
  }
  std::sort(segments.begin(), segments.end());

  WalRecovery out;
  std::size_t i = 0;
  for (; i < segments.size(); ++i) {
    const auto path = wal_dir / segment_file_name(segments[i]);
    auto bytes = env.read_file(path);
    if (!bytes) return error(bytes.error());
    std::optional<std::uint64_t> expected;
    if (out.last_sequence) expected = *out.last_sequence + 1;
    std::optional<std::uint64_t> first;
    const SegmentScan scan = scan_segment(*bytes, expected, [&](WalRecord&& rec) {
      if (!first) first = rec.sequence;
      on_record(std::move(rec));
    });
    if (first) out.segment_first_sequence.emplace_back(segments[i], *first);
    out.records += scan.records;
    out.samples += scan.samples;
    if (scan.last_sequence) out.last_sequence = scan.last_sequence;
    out.last_segment = segments[i];
    if (scan.stop == ScanStop::kCleanEnd) continue;

    const std::uint64_t cut = bytes->size() - scan.valid_bytes;
    out.truncated_bytes += cut;
    if (scan.stop == ScanStop::kTornTail && i + 1 == segments.size())
      spdlog::info("historian: {}: dropping a torn tail of {} bytes ({})", path.string(), cut, scan.reason);
    else {
      // scan.reason starts with "segment offset N: ".
      out.damage = fmt::format("{}: {}; {} record(s) before it kept, {} bytes dropped", path.string(), scan.reason,
                               scan.records, cut);
      spdlog::error("historian: {}", out.damage);
    }
    if (Status s = env.truncate(path, scan.valid_bytes); !s) return error(std::move(s));
    break;
  }
  // Everything after a cut is unreachable: replaying it would leave a hole in the sequence.
  for (std::size_t j = i + 1; j < segments.size(); ++j) {
    const auto path = wal_dir / segment_file_name(segments[j]);
    auto size = env.file_size(path);
    if (!size) return error(size.error());
    spdlog::error("historian: {}: deleting segment ({} bytes) that follows a damaged record",
                  path.string(), *size);
    out.truncated_bytes += *size;
    ++out.dropped_segments;
    if (Status s = env.remove(path); !s) return error(std::move(s));
  }
  if (out.dropped_segments > 0 && !out.damage.empty())
    out.damage += fmt::format(", and {} later segment(s) deleted", out.dropped_segments);
  if (out.dropped_segments > 0)
    if (Status s = env.sync_dir(wal_dir); !s) return error(std::move(s));
  return out;
}

}  // namespace resonance::historian
