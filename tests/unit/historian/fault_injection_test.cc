// One test per fault the store must survive, through FaultInjectionEnv: a full disk (WAL and chunk
// files), EIO on fdatasync (fsyncgate: no retry-and-pretend), EIO on open, and bit flips in chunk
// files and WAL segments (detected by CRC, reported with file and offset, the rest readable).

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fault_env.h"
#include "historian/chunk_format.h"
#include "historian/historian_impl.h"
#include "historian/wal_format.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::bit_equal;
using testing::FaultInjectionEnv;
using testing::FaultOp;
using testing::make_batch;
using testing::ScratchDir;
using testing::submit_and_wait;

HistorianOptions sync_options(const std::filesystem::path& dir) {
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kSync;
  o.group_commit_interval_us = 100;
  o.chunk_flush_interval_ms = 3'600'000;  // chunk flushes only when the test asks
  return o;
}

std::unique_ptr<HistorianImpl> open_impl(const HistorianOptions& o, Env& env) {
  auto h = HistorianImpl::open(o, env);
  EXPECT_TRUE(h) << h.error().to_string();
  return h ? std::move(*h) : nullptr;
}

std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Batch i of series `series`: 4 samples at ts 10*i .. 10*i+3, values distinct per batch.
SampleBatch numbered(SeriesId series, int i) {
  return make_batch(series, i * 10, 4, series * 1e6 + i * 100.0);
}

void expect_batches(const Historian& h, SeriesId series, int from, int to,
                    const std::string& what) {
  const auto got = h.range(series, from * 10, to * 10, 1 << 20);
  ASSERT_EQ(got.size(), std::size_t(to - from) * 4) << what;
  for (int i = from; i < to; ++i) {
    const auto want = numbered(series, i).samples;
    for (std::size_t j = 0; j < 4; ++j)
      EXPECT_TRUE(bit_equal(got[std::size_t(i - from) * 4 + j], want[j]))
          << what << ": batch " << i << " sample " << j;
  }
}

TEST(HistorianFaults, FullDiskRefusesWritesAndRecoversOnceSpaceReturns) {
  ScratchDir dir;
  FaultInjectionEnv env;
  auto h = open_impl(sync_options(dir.path()), env);
  ASSERT_TRUE(h);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(1, i)));
  const std::size_t record = encoded_record_size(numbered(1, 5));
  env.set_free_bytes(2 * record + 10);  // room for two more records and a torn third
  ASSERT_TRUE(submit_and_wait(*h, numbered(1, 5)));
  ASSERT_TRUE(submit_and_wait(*h, numbered(1, 6)));
  const Status full = submit_and_wait(*h, numbered(1, 7));
  ASSERT_FALSE(full);
  EXPECT_NE(full.message().find("No space left on device"), std::string::npos) << full.to_string();
  EXPECT_NE(full.message().find("00000001.wal"), std::string::npos) << full.to_string();
  const auto st = h->stats();
  EXPECT_TRUE(st.read_only);
  EXPECT_NE(st.last_error.find("No space left on device"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.batches_appended, 7u);  // the refused batch is not counted as appended
  // Refused, not queued: nothing more is written while the store is read-only.
  const auto appends = env.calls(FaultOp::kAppend);
  EXPECT_EQ(h->submit(numbered(1, 8), nullptr), Admission::kRetryLater);
  EXPECT_EQ(h->delete_series(1).code(), StatusCode::kFailedPrecondition);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(env.calls(FaultOp::kAppend), appends);
  // Reads go on serving what was acknowledged, and only that.
  expect_batches(*h, 1, 0, 7, "while read-only");
  EXPECT_EQ(h->latest(1)->ts_ns, 63);

  // Space returns; a restart cuts the torn 10 bytes and the store takes writes again.
  h.reset();
  env.clear_faults();
  h = open_impl(sync_options(dir.path()), env);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->stats().recovery_truncated_bytes, 10u);
  EXPECT_TRUE(h->stats().recovery_damage.empty()) << "a torn tail is not damage";
  expect_batches(*h, 1, 0, 7, "after restart");
  ASSERT_TRUE(submit_and_wait(*h, numbered(1, 7)));
  expect_batches(*h, 1, 0, 8, "after a new write");
}

TEST(HistorianFaults, FullDiskDuringChunkFlushKeepsDataInHeadAndWal) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.wal_segment_bytes = 4096;
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(2, i)));
  const auto wal_before = files_in(dir.path() / "wal");
  ASSERT_GT(wal_before.size(), 1u);
  env.set_free_bytes(100);
  const Status s = h->flush_chunks(true);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.to_string();
  // No chunk file, no leftover .tmp eating the space, no WAL segment deleted.
  EXPECT_TRUE(files_in(dir.path() / "chunks").empty());
  EXPECT_EQ(files_in(dir.path() / "wal"), wal_before);
  expect_batches(*h, 2, 0, 40, "after the failed flush");
  env.set_free_bytes(std::nullopt);
  ASSERT_TRUE(h->flush_chunks(true).is_ok());
  EXPECT_EQ(h->stats().chunk_files, 1u);
  EXPECT_LT(files_in(dir.path() / "wal").size(), wal_before.size());
  expect_batches(*h, 2, 0, 40, "after the retried flush");
  h.reset();
  env.simulate_power_loss();
  h = open_impl(o, env);
  ASSERT_TRUE(h);
  expect_batches(*h, 2, 0, 40, "after power loss");
}

// Unlike the WAL, a chunk file whose sync failed is thrown away and written again from memory
// through a new file, so retrying the flush is honest; until then the WAL keeps the samples.
TEST(HistorianFaults, FsyncFailureOnAChunkFileKeepsTheWalAndRetriesWithANewFile) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.wal_segment_bytes = 4096;
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(4, i)));
  const auto wal_before = files_in(dir.path() / "wal");
  env.inject(FaultOp::kSync, EIO, ".chunk.tmp", 0, 1);
  const Status s = h->flush_chunks(true);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(".chunk.tmp: Input/output error"), std::string::npos) << s.to_string();
  EXPECT_TRUE(files_in(dir.path() / "chunks").empty());
  EXPECT_EQ(files_in(dir.path() / "wal"), wal_before);
  EXPECT_FALSE(h->stats().read_only) << "a chunk flush failure does not stop ingest";
  ASSERT_TRUE(submit_and_wait(*h, numbered(4, 40)));
  ASSERT_TRUE(h->flush_chunks(false).is_ok());
  h.reset();
  env.simulate_power_loss();
  h = open_impl(o, env);
  ASSERT_TRUE(h);
  expect_batches(*h, 4, 0, 41, "after power loss");
}

TEST(HistorianFaults, FsyncFailureStopsAcknowledgingForGood) {
  ScratchDir dir;
  FaultInjectionEnv env;
  auto h = open_impl(sync_options(dir.path()), env);
  ASSERT_TRUE(h);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(1, i)));
  env.inject(FaultOp::kSync, EIO, "wal", 0, 1);  // fails once; a retry would "succeed" and lie
  const Status failed = submit_and_wait(*h, numbered(1, 3));
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.message().find("Input/output error"), std::string::npos) << failed.to_string();
  EXPECT_NE(failed.message().find("read-only"), std::string::npos) << failed.to_string();
  const auto st = h->stats();
  EXPECT_TRUE(st.read_only);
  EXPECT_NE(st.last_error.find("fdatasync"), std::string::npos) << st.last_error;
  const auto syncs = env.calls(FaultOp::kSync);
  const auto appends = env.calls(FaultOp::kAppend);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(h->submit(numbered(1, 4 + i), nullptr), Admission::kRetryLater);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(env.calls(FaultOp::kSync), syncs) << "synced again after a failed fdatasync";
  EXPECT_EQ(env.calls(FaultOp::kAppend), appends);
  // The batch whose sync failed is not visible to reads: it was never acknowledged.
  expect_batches(*h, 1, 0, 3, "after EIO");
  EXPECT_EQ(h->latest(1)->ts_ns, 23);
  // After power loss the acked batches are there and the failed one is gone, not half there.
  h.reset();
  env.simulate_power_loss();
  h = open_impl(sync_options(dir.path()), env);
  ASSERT_TRUE(h);
  expect_batches(*h, 1, 0, 3, "after power loss");
  EXPECT_TRUE(h->range(1, 30, 1000, 100).empty());
}

TEST(HistorianFaults, OpenFailureOfANewSegmentMakesTheStoreReadOnly) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.wal_segment_bytes = 4096;
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  env.inject(FaultOp::kOpen, EIO, "00000002.wal");
  int acked = 0;
  Status last;
  for (; acked < 200; ++acked) {
    last = submit_and_wait(*h, numbered(3, acked));
    if (!last) break;
  }
  ASSERT_LT(acked, 200);
  EXPECT_NE(last.message().find("00000002.wal"), std::string::npos) << last.to_string();
  EXPECT_TRUE(h->stats().read_only);
  h.reset();
  env.clear_faults();
  env.simulate_power_loss();
  h = open_impl(o, env);
  ASSERT_TRUE(h);
  expect_batches(*h, 3, 0, acked, "after reopen");
}

TEST(HistorianFaults, OpenFailsWithThePathWhenTheWalCannotBeOpened) {
  ScratchDir dir;
  FaultInjectionEnv env;
  env.inject(FaultOp::kOpen, EIO, "00000001.wal");
  auto h = HistorianImpl::open(sync_options(dir.path()), env);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), StatusCode::kIoError);
  EXPECT_NE(h.error().message().find("00000001.wal"), std::string::npos) << h.error().to_string();
  EXPECT_NE(h.error().message().find("Input/output error"), std::string::npos)
      << h.error().to_string();
}

// The byte offset of chunk `k` of `series` in a chunk file.
std::uint64_t chunk_offset(const std::vector<std::uint8_t>& file, SeriesId series, std::size_t k) {
  auto info = parse_chunk_file(file);
  EXPECT_TRUE(info) << info.error().to_string();
  for (const auto& e : info->index) {
    if (e.series != series) continue;
    auto chunks = chunks_of(file, e);
    EXPECT_TRUE(chunks && chunks->size() > k);
    return static_cast<std::uint64_t>((*chunks)[k].whole.data() - file.data());
  }
  ADD_FAILURE() << "series " << series << " not in file";
  return 0;
}

// The byte offset of the timestamp block of chunk `k` of `series` (chunk headers vary in length).
std::uint64_t ts_block_offset(const std::vector<std::uint8_t>& file, SeriesId series, std::size_t k) {
  const std::uint64_t at = chunk_offset(file, series, k);
  auto chunk = parse_chunk(std::span(file).subspan(at));
  EXPECT_TRUE(chunk) << chunk.error().to_string();
  return at + chunk->header.header_bytes;
}

TEST(HistorianFaults, BitFlipInAChunkCostsOnlyThatSeriesFromThere) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.durability = Durability::kNone;
  o.chunk_samples = 16;  // 4 batches of 4 samples per chunk
  std::string name;
  {
    auto h = open_impl(o, env);
    ASSERT_TRUE(h);
    for (SeriesId s = 1; s <= 3; ++s)
      for (int i = 0; i < 16; ++i)
        ASSERT_TRUE(submit_and_wait(*h, numbered(s, i)));  // 4 chunks each
    ASSERT_TRUE(h->flush_chunks(true).is_ok());
    name = files_in(dir.path() / "chunks").front();
  }
  const auto file = testing::read_bytes(dir.path() / "chunks" / name);
  const std::uint64_t at = chunk_offset(file, 2, 2);  // series 2's third chunk
  env.flip_bit(name, ts_block_offset(file, 2, 2) + 1, 3);  // inside its timestamp block
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  const auto st = h->stats();
  EXPECT_EQ(st.damaged_chunks_skipped, 2u);  // the bad chunk and the one after it
  EXPECT_EQ(st.chunk_files_quarantined, 0u);
  EXPECT_NE(st.chunk_damage.find(name), std::string::npos) << st.chunk_damage;
  EXPECT_NE(st.chunk_damage.find("byte " + std::to_string(at)), std::string::npos)
      << st.chunk_damage;
  EXPECT_NE(st.chunk_damage.find("series 2"), std::string::npos) << st.chunk_damage;
  EXPECT_NE(st.chunk_damage.find("CRC"), std::string::npos) << st.chunk_damage;
  expect_batches(*h, 1, 0, 16, "series 1");
  expect_batches(*h, 3, 0, 16, "series 3");
  expect_batches(*h, 2, 0, 8, "series 2 before the flip");
  EXPECT_TRUE(h->range(2, 80, 1000, 100).empty());
  EXPECT_EQ(h->aggregate(2, 0, 1000, 1000).at(0).count, 32u);
  // The file itself is kept: the damage may be in the page cache, not on the disk.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "chunks" / name));
}

TEST(HistorianFaults, BitFlipInAChunkFileIndexQuarantinesOnlyThatFile) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.durability = Durability::kNone;
  std::vector<std::string> names;
  {
    auto h = open_impl(o, env);
    ASSERT_TRUE(h);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(1, i)));
    ASSERT_TRUE(h->flush_chunks(true).is_ok());
    for (int i = 8; i < 16; ++i) ASSERT_TRUE(submit_and_wait(*h, numbered(1, i)));
    ASSERT_TRUE(h->flush_chunks(true).is_ok());
    names = files_in(dir.path() / "chunks");
  }
  std::erase(names, "CHECKPOINT");
  ASSERT_EQ(names.size(), 2u);
  const auto size = std::filesystem::file_size(dir.path() / "chunks" / names[0]);
  env.flip_bit(names[0], size - kChunkFooterBytes - 3, 0);  // in the index's last entry
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  const auto st = h->stats();
  EXPECT_EQ(st.chunk_files_quarantined, 1u);
  EXPECT_NE(st.chunk_damage.find(names[0]), std::string::npos) << st.chunk_damage;
  EXPECT_NE(st.chunk_damage.find("index CRC mismatch"), std::string::npos) << st.chunk_damage;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "chunks" / (names[0] + ".corrupt")));
  expect_batches(*h, 1, 8, 16, "the other file");
}

TEST(HistorianFaults, BitFlipInTheWalCutsThereAndSaysWhere) {
  ScratchDir dir;
  FaultInjectionEnv env;
  HistorianOptions o = sync_options(dir.path());
  o.durability = Durability::kNone;
  std::size_t third = 0;
  {
    auto h = open_impl(o, env);
    ASSERT_TRUE(h);
    for (int i = 0; i < 6; ++i) {
      if (i < 3) third += encoded_record_size(numbered(1, i));
      ASSERT_TRUE(submit_and_wait(*h, numbered(1, i)));
    }
  }
  env.flip_bit("00000001.wal", third + 40, 6);
  auto h = open_impl(o, env);
  ASSERT_TRUE(h);
  const auto st = h->stats();
  EXPECT_EQ(st.recovered_records, 3u);
  EXPECT_GT(st.recovery_truncated_bytes, 0u);
  EXPECT_NE(st.recovery_damage.find("00000001.wal: segment offset " + std::to_string(third) +
                                    ": checksum mismatch"),
            std::string::npos)
      << st.recovery_damage;
  expect_batches(*h, 1, 0, 3, "before the flip");
  EXPECT_TRUE(h->range(1, 30, 1000, 100).empty());
}

}  // namespace
}  // namespace resonance::historian
