// Historian::backfill and the backfill job (`resonance backfill`): history in any order merged with
// what is stored, durable before it returns, waiting out RetryLater; the CSV job refuses a data
// directory a node holds and names file, line and column of a bad field.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <random>

#include "historian/backfill_csv.h"
#include "historian/backfill_job.h"
#include "historian/historian_impl.h"
#include "resonance/core/catalog.h"
#include "resonance/core/dir_lock.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::CountingEnv;
using testing::ScratchDir;

HistorianOptions backfill_options(const std::filesystem::path& dir) {
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kSync;
  o.group_commit_interval_us = 100;
  o.chunk_samples = 64;
  o.partition_ns = 10'000;
  o.compaction_interval_ms = 0;
  return o;
}

TEST(HistorianBackfill, AnyOrderMergedWithStoredDataDurableOnReturn) {
  ScratchDir dir;
  CountingEnv env;
  std::vector<Sample> history;
  for (SeriesId s = 1; s <= 3; ++s)
    for (TimestampNs ts = 0; ts < 50'000; ts += 7) history.push_back(Sample{s, ts, double(s * 100000 + ts), Quality{}});
  std::mt19937 rng(42);
  std::shuffle(history.begin(), history.end(), rng);
  {
    auto h = HistorianImpl::open(backfill_options(dir.path()), env);
    ASSERT_TRUE(h);
    // Live data of series 1 in the newest partition, and one stored sample the backfill rewrites.
    ASSERT_TRUE(testing::submit_and_wait(**h, testing::make_batch(1, 60'000, 100, -1.0)));
    ASSERT_TRUE(testing::submit_and_wait(**h, SampleBatch{{Sample{1, 700, -5.0, Quality{}}}, {}}));
    ASSERT_TRUE((*h)->flush_chunks(true));
    const int syncs_before = env.syncs.load();
    auto r = (*h)->backfill(std::vector<Sample>(history), "test-history");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->samples, history.size());
    EXPECT_EQ(r->series, 3u);
    EXPECT_EQ(r->partitions, 5u);
    EXPECT_GE(r->batches, history.size() / HistorianImpl::kBackfillBatchSamples);
    EXPECT_GT(env.syncs.load(), syncs_before) << "durable means synced";
    EXPECT_EQ((*h)->stats().backfill_samples, history.size());
    // No flush, no close: what backfill returned for must come back from the WAL alone.
    (*h)->close();
  }
  auto h = HistorianImpl::open(backfill_options(dir.path()), env);
  ASSERT_TRUE(h);
  for (SeriesId s = 1; s <= 3; ++s) {
    const auto got = (*h)->range(s, 0, 50'000, 1 << 20);
    ASSERT_EQ(got.size(), (50'000 + 6) / 7) << "series " << s;
    for (const Sample& x : got) ASSERT_EQ(x.value, double(s * 100000 + x.ts_ns)) << "series " << s;
  }
  // The backfilled sample at 700 replaced the stored -5 (the later write wins); live data intact.
  EXPECT_EQ((*h)->range(1, 700, 701, 1).at(0).value, 100700.0);
  EXPECT_EQ((*h)->range(1, 60'000, 61'000, 1000).size(), 100u);
  EXPECT_EQ((*h)->latest(1)->ts_ns, 60'099);
  // Compaction folds the late runs; reads stay the same.
  ASSERT_TRUE((*h)->flush_chunks(true));
  const auto before = (*h)->range(2, 0, 50'000, 1 << 20);
  auto c = (*h)->compact(true);
  ASSERT_TRUE(c) << c.error().to_string();
  const auto after = (*h)->range(2, 0, 50'000, 1 << 20);
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) ASSERT_TRUE(testing::bit_equal(before[i], after[i]));
}

TEST(HistorianBackfill, WaitsOutRetryLaterUnderTightBounds) {
  ScratchDir dir;
  HistorianOptions o = backfill_options(dir.path());
  o.max_head_bytes = 256 << 10;  // far below the history's size: the head must drain as it goes
  o.chunk_flush_interval_ms = 20;
  o.durability = Durability::kNone;
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h);
  std::vector<Sample> history;
  for (SeriesId s = 1; s <= 20; ++s)
    for (TimestampNs ts = 0; ts < 100'000; ts += 10) history.push_back(Sample{s, ts, double(ts), Quality{}});
  auto r = (*h)->backfill(std::move(history), "tight");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->samples, 200'000u);
  EXPECT_GT(r->retries, 0u);
  for (SeriesId s = 1; s <= 20; ++s) EXPECT_EQ((*h)->range(s, 0, 100'000, 1 << 20).size(), 10'000u);
}

TEST(HistorianBackfill, ReadOnlyStoreFailsTheBackfill) {
  ScratchDir dir;
  CountingEnv env;
  auto h = HistorianImpl::open(backfill_options(dir.path()), env);
  ASSERT_TRUE(h);
  env.fail_sync = true;
  auto r = (*h)->backfill(std::vector<Sample>{Sample{1, 5, 1.0, Quality{}}}, "doomed");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("fdatasync"), std::string::npos) << r.error().to_string();
}

void write_text(const std::filesystem::path& p, std::string_view text) {
  testing::write_bytes(p, std::vector<std::uint8_t>(text.begin(), text.end()));
}

TEST(HistorianBackfillJob, LoadsACsvIntoTheDataDirectory) {
  ScratchDir dir;
  const auto data = dir.path() / "node";
  const auto csv = dir.path() / "export.csv";
  write_text(csv,
             "series,ts,value,quality\n"
             "plant/hall1/line1/cnc-01/spindle_speed,2024-05-01T08:00:00.5Z,1500.5,0\n"
             "plant/hall1/line1/cnc-01/spindle_speed,1714550400000000000,1499,\n"
             "plant/hall1/line1/cnc-01/spindle_load,1714550400000000000,,0x80000000\r\n");
  BackfillJob job;
  job.data_dir = data;
  job.csv = csv;
  auto r = run_backfill_job(job);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->loaded.samples, 3u);
  EXPECT_EQ(r->series_created, 2u);
  auto catalog = SeriesCatalog::open(data / "catalog.sqlite");
  ASSERT_TRUE(catalog);
  const auto speed = (*catalog)->find(std::string_view("plant/hall1/line1/cnc-01/spindle_speed"));
  const auto load = (*catalog)->find(std::string_view("plant/hall1/line1/cnc-01/spindle_load"));
  ASSERT_TRUE(speed && load);
  catalog->reset();
  HistorianOptions o;
  o.dir = data / "historian";
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h);
  const auto got = (*h)->range(speed->id, 0, std::numeric_limits<TimestampNs>::max(), 10);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].ts_ns, 1714550400000000000);
  EXPECT_EQ(got[0].value, 1499.0);
  EXPECT_EQ(got[1].ts_ns, 1714550400500000000);
  const auto l = (*h)->latest(load->id);
  ASSERT_TRUE(l);
  EXPECT_TRUE(std::isnan(l->value));
  EXPECT_EQ(l->quality.code, Quality::kBad);
}

TEST(HistorianBackfillJob, RefusesWhileANodeHoldsTheDataDirectory) {
  ScratchDir dir;
  const auto data = dir.path() / "node";
  std::filesystem::create_directories(data);
  const auto csv = dir.path() / "a.csv";
  write_text(csv, "ts,value\n1,2\n");
  auto held = DirLock::acquire(data);  // what a running node holds
  ASSERT_TRUE(held);
  BackfillJob job;
  job.data_dir = data;
  job.csv = csv;
  job.series = "a/b/c/d/e";
  auto r = run_backfill_job(job);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.error().message().find("backfill refused"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("in use"), std::string::npos) << r.error().message();
  EXPECT_FALSE(std::filesystem::exists(data / "historian")) << "nothing written";
}

TEST(HistorianBackfillJob, MalformedLineStoresNothingAndNamesLineAndColumn) {
  ScratchDir dir;
  const auto data = dir.path() / "node";
  const auto csv = dir.path() / "bad.csv";
  write_text(csv, "ts,value,quality\n1,2,0\n2,abc,0\n");
  BackfillJob job;
  job.data_dir = data;
  job.csv = csv;
  job.series = "a/b/c/d/e";
  auto r = run_backfill_job(job);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("bad.csv:3:3: value: expected a number"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(std::filesystem::exists(data / "historian"));
}

TEST(HistorianBackfillCsv, ErrorsNameFileLineAndColumn) {
  auto err = [](std::string_view text, std::string_view series = {}) {
    auto r = parse_backfill_csv(text, "f.csv", series);
    return r ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(err("series,ts,value\na/b/c/d/e,12x,1\n"),
            "f.csv:2:11: ts: expected integer nanoseconds since the epoch or an RFC 3339 time "
            "(2024-05-01T08:00:00.125Z), found '12x'");
  EXPECT_EQ(err("series,ts,value\na/b/c/d,1,1\n").substr(0, 18), "f.csv:2:1: series:");
  EXPECT_EQ(err("series,ts,value\n\na/b/c/d/e,1,1,9\n"),
            "f.csv:3:15: expected 3 fields as in the header, got 4, found 'a/b/c/d/e,1,1,9'");
  EXPECT_EQ(err("ts,value,quality\n1,2,0xZZ\n", "a/b/c/d/e"),
            "f.csv:2:5: quality: expected an OPC UA status code, decimal or 0x-hex (0 = Good), found '0xZZ'");
  EXPECT_EQ(err("time,value\n").substr(0, 17), "f.csv:1:1: header");
  EXPECT_EQ(err("ts,value\n1,2\n").substr(0, 29), "f.csv:1:1: the file has no 's");
  EXPECT_EQ(err(""), "f.csv:1:1: expected a header line (series,ts,value[,quality] or ts,value[,quality]), "
                     "found an empty file");
}

TEST(HistorianBackfillCsv, ParsesBothShapesAndTimeFormats) {
  auto r = parse_backfill_csv("\xEF\xBB\xBF" "ts,value,quality\n1,-0,\n2,nan,3\n\"3\",+1.5e3,0x40000000\n", "x",
                              "a/b/c/d/e");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->paths, std::vector<std::string>{"a/b/c/d/e"});
  EXPECT_TRUE(std::signbit(r->rows[0].value));
  EXPECT_TRUE(std::isnan(r->rows[1].value));
  EXPECT_EQ(r->rows[1].quality, 3u);
  EXPECT_EQ(r->rows[2].ts_ns, 3);
  EXPECT_EQ(r->rows[2].value, 1500.0);
  EXPECT_EQ(r->rows[2].quality, Quality::kUncertain);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-01T10:00:00.000000001+02:00"), 1714550400000000001);
  EXPECT_EQ(parse_rfc3339_ns("1969-12-31T23:59:59.5Z"), -500'000'000);
  EXPECT_FALSE(parse_rfc3339_ns("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T00:00:00"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T00:00:00.Z"));
}

}  // namespace
}  // namespace resonance::historian
