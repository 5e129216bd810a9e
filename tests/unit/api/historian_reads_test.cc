// GET /api/v1/aggregate and /api/v1/frame through the Router over the real historian (a store in
// a temporary directory with small chunks, so answers come from chunk files, sealed head chunks
// and open buffers alike).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "resonance/api/router.h"
#include "resonance/historian/duration.h"

namespace resonance::api::testing {
namespace {

using nlohmann::json;

constexpr TimestampNs kT0 = 1'700'000'000LL * kNanosPerSecond;

class HistorianReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("resonance-api-reads-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    HistorianOptions options;
    options.dir = dir_;
    options.durability = Durability::kNone;
    options.chunk_samples = 64;
    options.chunk_flush_interval_ms = 5;
    auto historian = open_historian(options);
    ASSERT_TRUE(historian.has_value()) << historian.error().to_string();
    historian_ = std::move(*historian);
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog.has_value());
    catalog_ = std::move(*catalog);
    a_ = *catalog_->resolve("site/hall/line2/press7/force", "kN");
    b_ = *catalog_->resolve("site/hall/line2/press7/temp", "C");
    RouterOptions ro;
    ro.max_points = 1000;
    ro.clock = [] { return kT0 + 10 * kNanosPerSecond; };
    router_ = std::make_unique<Router>(ro, *catalog_, *historian_, metrics_);
  }
  void TearDown() override {
    router_.reset();
    if (historian_) historian_->close();
    historian_.reset();
    std::filesystem::remove_all(dir_);
  }

  void store(std::vector<Sample> samples) {
    std::promise<Status> durable;
    SampleBatch batch;
    batch.samples = std::move(samples);
    batch.provenance.connector = "test";
    ASSERT_EQ(historian_->submit(std::move(batch), [&durable](const Status& s) { durable.set_value(s); }),
              Admission::kAccepted);
    const Status s = durable.get_future().get();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  json ok(std::string_view target) {
    const Response r = router_->handle("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  std::string bad(std::string_view target, int status = 400) {
    const Response r = router_->handle("GET", target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) {
      ADD_FAILURE() << "no error object in " << r.body;
      return {};
    }
    return j["error"]["message"].get<std::string>();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Historian> historian_;
  std::unique_ptr<SeriesCatalog> catalog_;
  std::unique_ptr<Router> router_;
  MetricsRegistry metrics_;
  SeriesId a_ = 0, b_ = 0;
};

TEST(DurationTest, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(parse_duration_ns("250000"), 250000);
  EXPECT_EQ(parse_duration_ns("7ns"), 7);
  EXPECT_EQ(parse_duration_ns("3us"), 3000);
  EXPECT_EQ(parse_duration_ns("500ms"), 500 * kNanosPerMilli);
  EXPECT_EQ(parse_duration_ns("10s"), 10 * kNanosPerSecond);
  EXPECT_EQ(parse_duration_ns("2m"), 120 * kNanosPerSecond);
  EXPECT_EQ(parse_duration_ns("1h"), 3600 * kNanosPerSecond);
  EXPECT_EQ(parse_duration_ns("30d"), 30LL * 86400 * kNanosPerSecond);
  EXPECT_EQ(parse_duration_ns("0"), 0);
  for (std::string_view bad : {"", "s", "-5s", "1.5s", "10x", "10 s", "5S", "99999999999999999999", "200000d"})
    EXPECT_FALSE(parse_duration_ns(bad).has_value()) << bad;
}

TEST_F(HistorianReadsTest, AggregateMatchesTheSamples) {
  // 1,000 samples 10 ms apart, value = index: ten 1-second buckets of 100 samples each.
  std::vector<Sample> samples;
  for (int i = 0; i < 1000; ++i) samples.push_back({a_, kT0 + i * 10 * kNanosPerMilli, double(i), {}});
  store(samples);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let some chunks reach chunk files

  auto j = ok(fmt::format("/api/v1/aggregate?series={}&from={}&to={}&step=1s", a_, kT0, kT0 + 10 * kNanosPerSecond));
  EXPECT_EQ(j["path"], "site/hall/line2/press7/force");
  EXPECT_EQ(j["step_ns"], kNanosPerSecond);
  EXPECT_EQ(j["columns"], json({"start", "min", "max", "mean", "sum", "count", "first", "last"}));
  ASSERT_EQ(j["buckets"].size(), 10u);
  for (int k = 0; k < 10; ++k) {
    const auto& b = j["buckets"][k];
    const double lo = k * 100, hi = k * 100 + 99;
    EXPECT_EQ(b[0], kT0 + k * kNanosPerSecond);
    EXPECT_EQ(b[1], lo);
    EXPECT_EQ(b[2], hi);
    EXPECT_DOUBLE_EQ(b[3].get<double>(), (lo + hi) / 2);
    EXPECT_DOUBLE_EQ(b[4].get<double>(), (lo + hi) * 50);
    EXPECT_EQ(b[5], 100);
    EXPECT_EQ(b[6], lo);
    EXPECT_EQ(b[7], hi);
  }

  // A subset in the requested order, by path, over a window that cuts buckets.
  j = ok(fmt::format("/api/v1/aggregate?series=site%2Fhall%2Fline2%2Fpress7%2Fforce&from={}&to={}&step=500ms"
                     "&fn=count,last",
                     kT0 + 250 * kNanosPerMilli, kT0 + 1250 * kNanosPerMilli));
  EXPECT_EQ(j["columns"], json({"start", "count", "last"}));
  ASSERT_EQ(j["buckets"].size(), 2u);
  EXPECT_EQ(j["buckets"][0], json({kT0 + 250 * kNanosPerMilli, 50, 74.0}));
  EXPECT_EQ(j["buckets"][1], json({kT0 + 750 * kNanosPerMilli, 50, 124.0}));

  // Empty buckets are left out; a window with no data answers no buckets.
  j = ok(fmt::format("/api/v1/aggregate?series={}&from={}&to={}&step=1000000000", a_, kT0 - 5 * kNanosPerSecond, kT0));
  EXPECT_TRUE(j["buckets"].empty());
}

TEST_F(HistorianReadsTest, AggregateOfOnlyNaNValuesIsNullNotNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  store({{a_, kT0, nan, {}}, {a_, kT0 + 1, nan, {}}});
  const auto j = ok(fmt::format("/api/v1/aggregate?series={}&from={}&to={}&step=1s&fn=count,min,mean,first", a_, kT0,
                                kT0 + kNanosPerSecond));
  ASSERT_EQ(j["buckets"].size(), 1u);
  EXPECT_EQ(j["buckets"][0], json({kT0, 2, nullptr, nullptr, nullptr}));
}

TEST_F(HistorianReadsTest, AggregateErrorsNameTheParameter) {
  const std::string base = fmt::format("/api/v1/aggregate?series={}&from={}&to={}", a_, kT0, kT0 + kNanosPerSecond);
  EXPECT_EQ(bad(base), "query parameter 'step': required; expected a positive duration such as 10s, 500ms or "
                       "250000 (ns), found nothing");
  EXPECT_EQ(bad(base + "&step=10x"), "query parameter 'step': expected a positive duration such as 10s, 500ms or "
                                     "250000 (ns; units ns, us, ms, s, m, h, d), found '10x'");
  EXPECT_NE(bad(base + "&step=0").find("found '0'"), std::string::npos);
  EXPECT_NE(bad(base + "&step=-1s").find("found '-1s'"), std::string::npos);
  EXPECT_EQ(bad(base + "&step=1s&fn=min,median"),
            "query parameter 'fn': expected a comma-separated list of min, max, mean, sum, count, first, last, "
            "found 'median' in 'min,median'");
  EXPECT_NE(bad(base + "&step=1s&fn=min,min").find("'min' repeated"), std::string::npos);
  EXPECT_NE(bad(base + "&step=1s&fn=").find("found '' in ''"), std::string::npos);
  EXPECT_EQ(bad(base + "&step=1s&limit=5"),
            "query parameter 'limit': unknown; expected series, from, to, step or fn");
  EXPECT_NE(bad(base + "&step=1s&step=2s").find("'step': expected at most once"), std::string::npos);
  // 1 s in 1 ms steps = 1,000 buckets: the bound itself is fine, one more is not.
  EXPECT_EQ(ok(base + "&step=1ms")["buckets"].size(), 0u);
  EXPECT_EQ(bad(fmt::format("/api/v1/aggregate?series={}&from={}&to={}&step=1ms", a_, kT0, kT0 + kNanosPerSecond + 1)),
            fmt::format("query parameters 'from', 'to' and 'step': expected at most 1000 buckets, found 1001 "
                        "(from={} to={} step=1000000 ns); use a larger step or a shorter window",
                        kT0, kT0 + kNanosPerSecond + 1));
  // The whole int64 range does not overflow the bucket count.
  EXPECT_NE(bad(fmt::format("/api/v1/aggregate?series={}&from={}&to={}&step=1",
                            a_, std::numeric_limits<TimestampNs>::min(), std::numeric_limits<TimestampNs>::max()))
                .find("found 18446744073709551615"),
            std::string::npos);
  EXPECT_NE(bad(fmt::format("/api/v1/aggregate?series={}&from=2000&to=1000&step=1s", a_)).find("expected from <= to"),
            std::string::npos);
  EXPECT_EQ(bad("/api/v1/aggregate?series=77&step=1s", 404),
            "query parameter 'series': no series with id 77 (GET /api/v1/series lists them)");
  EXPECT_NE(bad("/api/v1/aggregate?step=1s").find("'series': required"), std::string::npos);
  const Response post = router_->handle("POST", base + "&step=1s");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
}

TEST_F(HistorianReadsTest, FrameAlignsSeriesByLocfAndLinear) {
  // a: every second, value = seconds; b: every 2 s, value = 10 * seconds.
  std::vector<Sample> samples;
  for (int s = 0; s < 10; ++s) samples.push_back({a_, kT0 + s * kNanosPerSecond, double(s), {}});
  for (int s = 0; s < 10; s += 2) samples.push_back({b_, kT0 + s * kNanosPerSecond, 10.0 * s, {}});
  store(samples);

  auto j = ok(fmt::format("/api/v1/frame?series={},site%2Fhall%2Fline2%2Fpress7%2Ftemp&from={}&to={}&step=500ms"
                          "&max_staleness=1s",
                          a_, kT0, kT0 + 3 * kNanosPerSecond));
  ASSERT_EQ(j["series"].size(), 2u);
  EXPECT_EQ(j["series"][1]["id"], b_);
  EXPECT_EQ(j["series"][1]["unit"], "C");
  EXPECT_EQ(j["fill"], "locf");
  EXPECT_EQ(j["max_staleness_ns"], kNanosPerSecond);
  ASSERT_EQ(j["rows"].size(), 6u);
  EXPECT_EQ(j["rows"][0], json({kT0, 0.0, 0.0}));
  EXPECT_EQ(j["rows"][1], json({kT0 + 500 * kNanosPerMilli, 0.0, 0.0}));
  EXPECT_EQ(j["rows"][3], json({kT0 + 1500 * kNanosPerMilli, 1.0, nullptr}));  // b's 0 s value is 1.5 s old
  EXPECT_EQ(j["rows"][4], json({kT0 + 2 * kNanosPerSecond, 2.0, 20.0}));

  j = ok(fmt::format("/api/v1/frame?series={},{}&from={}&to={}&step=500ms&fill=linear&max_staleness=2s", a_, b_,
                     kT0 + 500 * kNanosPerMilli, kT0 + 2 * kNanosPerSecond));
  EXPECT_EQ(j["fill"], "linear");
  ASSERT_EQ(j["rows"].size(), 3u);
  EXPECT_EQ(j["rows"][0], json({kT0 + 500 * kNanosPerMilli, 0.5, 5.0}));
  EXPECT_EQ(j["rows"][1], json({kT0 + kNanosPerSecond, 1.0, 10.0}));
  EXPECT_EQ(j["rows"][2], json({kT0 + 1500 * kNanosPerMilli, 1.5, 15.0}));

  // Default staleness is one step: 100 ms after b's last observation is still LOCF-valid for a
  // 1 s step, 1.5 s after is not.
  j = ok(fmt::format("/api/v1/frame?series={}&from={}&to={}&step=1s", b_, kT0 + 8 * kNanosPerSecond + 100,
                     kT0 + 10 * kNanosPerSecond));
  EXPECT_EQ(j["max_staleness_ns"], kNanosPerSecond);
  EXPECT_EQ(j["rows"][0][1], 80.0);
  EXPECT_EQ(j["rows"][1][1], nullptr);
}

TEST_F(HistorianReadsTest, FrameErrorsNameTheParameterAndTheBound) {
  const std::string base = fmt::format("/api/v1/frame?series={},{}&from={}&to={}", a_, b_, kT0, kT0 + kNanosPerSecond);
  EXPECT_NE(bad(base).find("'step': required"), std::string::npos);
  EXPECT_EQ(bad(base + "&step=1s&fill=cubic"), "query parameter 'fill': expected locf or linear, found 'cubic'");
  EXPECT_NE(bad(base + "&step=1s&max_staleness=soon").find("query parameter 'max_staleness': expected a positive "
                                                          "duration"),
            std::string::npos);
  EXPECT_EQ(bad(fmt::format("/api/v1/frame?series={},site%2Fhall%2Fnone%2Fx%2Fy&step=1s", a_), 404),
            "query parameter 'series': no series with path 'site/hall/none/x/y' (GET /api/v1/series lists "
            "them) (item 2 of the list)");
  EXPECT_NE(bad(fmt::format("/api/v1/frame?series={},&step=1s", a_)).find("found '' (item 2 of the list)"),
            std::string::npos);
  EXPECT_EQ(bad(base + "&step=1s&fn=min"),
            "query parameter 'fn': unknown; expected series, from, to, step, fill or max_staleness");
  EXPECT_EQ(bad(fmt::format("/api/v1/frame?series={}&from={}&to={}&step=1ms", a_, kT0, kT0 + 2 * kNanosPerSecond)),
            fmt::format("query parameters 'from', 'to' and 'step': expected at most 1000 rows, found 2000 (from={} "
                        "to={} step=1000000 ns); use a larger step or a shorter window",
                        kT0, kT0 + 2 * kNanosPerSecond));
  // 1,000 rows are allowed, but not for 11 series (10 x max_points cells).
  std::string eleven = std::to_string(a_);
  for (int i = 0; i < 10; ++i) eleven += fmt::format(",{}", b_);
  EXPECT_EQ(bad(fmt::format("/api/v1/frame?series={}&from={}&to={}&step=1ms", eleven, kT0, kT0 + kNanosPerSecond)),
            "query parameters 'series' and 'step': expected at most 10000 cells (rows x series), found 11000 "
            "(1000 rows x 11 series)");
  EXPECT_EQ(ok(fmt::format("/api/v1/frame?series={}&from={}&to={}&step=1ms", a_, kT0, kT0 + kNanosPerSecond))["rows"]
                .size(),
            1000u);
}

}  // namespace
}  // namespace resonance::api::testing
