// Recovery on open: replay, torn tails, damaged records, rotation. The files are damaged by hand
// here; the kill -9 harness in tests/integration/historian_crash does it for real.

#include <gtest/gtest.h>

#include <algorithm>

#include "historian/wal_format.h"
#include "historian/wal_writer.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::fast_options;
using testing::make_batch;
using testing::read_bytes;
using testing::ScratchDir;
using testing::submit_and_wait;
using testing::write_bytes;

std::unique_ptr<Historian> open_ok(const HistorianOptions& o) {
  auto h = resonance::open_historian(o);
  EXPECT_TRUE(h) << h.error().to_string();
  return h ? std::move(*h) : nullptr;
}

std::vector<std::string> segment_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir / "wal")) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Writes `n` batches of 3 samples (series 1, ts 10*i ..) and returns the per-record start offsets in
// segment 1 plus its final size.
std::vector<std::size_t> write_records(const std::filesystem::path& dir, int n) {
  auto h = open_ok(fast_options(dir));
  std::vector<std::size_t> starts;
  std::size_t offset = 0;
  for (int i = 0; i < n; ++i) {
    SampleBatch b = make_batch(1, i * 10, 3, i * 100.0);
    starts.push_back(offset);
    offset += encoded_record_size(b);
    EXPECT_TRUE(submit_and_wait(*h, std::move(b)));
  }
  starts.push_back(offset);
  return starts;
}

TEST(HistorianRecovery, ReopenReplaysAndContinuesTheSequence) {
  ScratchDir dir;
  write_records(dir.path(), 4);
  {
    auto h = open_ok(fast_options(dir.path()));
    const auto st = h->stats();
    EXPECT_EQ(st.recovered_records, 4u);
    EXPECT_EQ(st.recovered_samples, 12u);
    EXPECT_EQ(st.recovery_truncated_bytes, 0u);
    EXPECT_EQ(st.head_samples, 12u);
    ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 1000, 2)));
  }
  // A third open sees both sessions' records in one unbroken sequence (a gap would be cut).
  auto h = open_ok(fast_options(dir.path()));
  EXPECT_EQ(h->stats().recovered_records, 5u);
  EXPECT_EQ(h->stats().recovery_truncated_bytes, 0u);
  EXPECT_EQ(h->latest(1)->ts_ns, 1001);
  // The sequence continued at 5: decode the last record directly.
  const auto bytes = read_bytes(dir.path() / "wal" / "00000001.wal");
  std::uint64_t last_seq = 0;
  const auto scan = scan_segment(bytes, 1, [&](WalRecord&& r) { last_seq = r.sequence; });
  EXPECT_EQ(scan.stop, ScanStop::kCleanEnd);
  EXPECT_EQ(last_seq, 5u);
}

TEST(HistorianRecovery, TornLastRecordAtEveryOffsetKeepsEarlierRecords) {
  ScratchDir src;
  const auto starts = write_records(src.path(), 3);
  const auto full = read_bytes(src.path() / "wal" / "00000001.wal");
  ASSERT_EQ(full.size(), starts.back());
  const std::size_t last = starts[2];
  for (std::size_t cut = last; cut < full.size(); ++cut) {
    ScratchDir dir;
    std::filesystem::create_directories(dir.path() / "wal");
    write_bytes(dir.path() / "wal" / "00000001.wal", std::vector<std::uint8_t>(full.begin(), full.begin() + cut));
    auto h = open_ok(fast_options(dir.path()));
    ASSERT_TRUE(h);
    const auto st = h->stats();
    EXPECT_EQ(st.recovered_records, 2u) << cut;
    EXPECT_EQ(st.recovery_truncated_bytes, cut - last) << cut;
    EXPECT_EQ(h->range(1, 0, 1000, 100).size(), 6u) << cut;
    EXPECT_EQ(h->latest(1)->value, 102.0) << cut;
    // The cut is on disk, and appending after it yields a clean log again.
    ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 500, 1)));
    h.reset();
    EXPECT_EQ(std::filesystem::file_size(dir.path() / "wal" / "00000001.wal"),
              last + encoded_record_size(make_batch(1, 500, 1)));
    auto again = open_ok(fast_options(dir.path()));
    EXPECT_EQ(again->stats().recovered_records, 3u) << cut;
    EXPECT_EQ(again->stats().recovery_truncated_bytes, 0u) << cut;
  }
}

TEST(HistorianRecovery, BitFlipInAMiddleRecordTruncatesThere) {
  ScratchDir dir;
  const auto starts = write_records(dir.path(), 5);
  const auto path = dir.path() / "wal" / "00000001.wal";
  auto bytes = read_bytes(path);
  bytes[starts[2] + 30] ^= 0x04;
  write_bytes(path, bytes);
  auto h = open_ok(fast_options(dir.path()));
  const auto st = h->stats();
  EXPECT_EQ(st.recovered_records, 2u);
  EXPECT_EQ(st.recovered_samples, 6u);
  EXPECT_EQ(st.recovery_truncated_bytes, bytes.size() - starts[2]);
  EXPECT_EQ(h->latest(1)->ts_ns, 12);
  EXPECT_EQ(std::filesystem::file_size(path), starts[2]);
}

TEST(HistorianRecovery, SegmentsRotateAndReplayInOrder) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.wal_segment_bytes = 4096;
  const std::size_t record = encoded_record_size(make_batch(1, 0, 20));
  {
    auto h = open_ok(o);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(submit_and_wait(*h, make_batch(1, i * 20, 20)));
  }
  const auto names = segment_names(dir.path());
  const std::size_t per_segment = 4096 / record;
  EXPECT_EQ(names.size(), (100 + per_segment - 1) / per_segment);
  EXPECT_EQ(names.front(), "00000001.wal");
  for (const auto& n : names) EXPECT_LE(std::filesystem::file_size(dir.path() / "wal" / n), 4096u) << n;
  auto h = open_ok(o);
  EXPECT_EQ(h->stats().recovered_records, 100u);
  EXPECT_EQ(h->range(1, 0, 1 << 20, 1 << 20).size(), 2000u);
}

TEST(HistorianRecovery, DamageInAnEarlySegmentDropsTheLaterOnes) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.wal_segment_bytes = 4096;
  const std::size_t record = encoded_record_size(make_batch(1, 0, 20));
  {
    auto h = open_ok(o);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(submit_and_wait(*h, make_batch(1, i * 20, 20)));
  }
  const auto names = segment_names(dir.path());
  ASSERT_GE(names.size(), 4u);
  std::uint64_t later_bytes = 0;
  for (std::size_t i = 2; i < names.size(); ++i) later_bytes += std::filesystem::file_size(dir.path() / "wal" / names[i]);
  // Flip a bit in the second record of segment 2.
  const auto seg2 = dir.path() / "wal" / names[1];
  auto bytes = read_bytes(seg2);
  bytes[record + 50] ^= 0x80;
  write_bytes(seg2, bytes);

  const std::size_t per_segment = 4096 / record;
  auto h = open_ok(o);
  const auto st = h->stats();
  EXPECT_EQ(st.recovered_records, per_segment + 1);
  EXPECT_EQ(st.recovery_truncated_bytes, (bytes.size() - record) + later_bytes);
  EXPECT_EQ(segment_names(dir.path()).size(), 2u);
  EXPECT_EQ(std::filesystem::file_size(seg2), record);
  // New writes continue in segment 2 and survive another reopen.
  ASSERT_TRUE(submit_and_wait(*h, make_batch(2, 0, 1)));
  h.reset();
  auto again = open_ok(o);
  EXPECT_EQ(again->stats().recovered_records, per_segment + 2);
  EXPECT_EQ(again->stats().recovery_truncated_bytes, 0u);
}

TEST(HistorianRecovery, EmptyAndZeroFilledSegmentsAreNormal) {
  ScratchDir dir;
  const auto starts = write_records(dir.path(), 2);
  const auto path = dir.path() / "wal" / "00000001.wal";
  auto bytes = read_bytes(path);
  bytes.resize(bytes.size() + 1000, 0);  // a file extended by a crash before the data landed
  write_bytes(path, bytes);
  write_bytes(dir.path() / "wal" / "00000002.wal", {});  // created, never written
  write_bytes(dir.path() / "wal" / "notes.txt", {'x'});  // foreign file: ignored, kept
  auto h = open_ok(fast_options(dir.path()));
  EXPECT_EQ(h->stats().recovered_records, 2u);
  EXPECT_EQ(h->stats().recovery_truncated_bytes, 1000u);
  EXPECT_EQ(std::filesystem::file_size(path), starts.back());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "wal" / "notes.txt"));
}

TEST(HistorianRecovery, SegmentNamesParseStrictly) {
  EXPECT_EQ(segment_file_name(42), "00000042.wal");
  EXPECT_EQ(parse_segment_file_name("00000042.wal"), 42u);
  EXPECT_FALSE(parse_segment_file_name("00000000.wal"));
  EXPECT_FALSE(parse_segment_file_name("0000042.wal"));
  EXPECT_FALSE(parse_segment_file_name("0000004x.wal"));
  EXPECT_FALSE(parse_segment_file_name("00000042.wal.tmp"));
  EXPECT_FALSE(parse_segment_file_name("+0000042.wal"));
}

}  // namespace
}  // namespace resonance::historian
