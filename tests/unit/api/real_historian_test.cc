// The API over the real historian (open_historian in a temporary directory).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <cmath>
#include <future>
#include <nlohmann/json.hpp>

#include "raw_client.h"
#include "resonance/api/api_server.h"
#include "resonance/api/router.h"

namespace resonance::api::testing {
namespace {

class RealHistorianTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("resonance-api-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    HistorianOptions options;
    options.dir = dir_;
    options.durability = Durability::kNone;
    auto historian = open_historian(options);
    ASSERT_TRUE(historian.has_value()) << historian.error().to_string();
    historian_ = std::move(*historian);
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog.has_value());
    catalog_ = std::move(*catalog);
    id_ = *catalog_->resolve("site/hall/line2/press7/force", "kN");
  }
  void TearDown() override {
    if (historian_) historian_->close();
    historian_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Submits and waits until the batch is durable, hence visible to queries.
  void store(std::vector<Sample> samples) {
    std::promise<Status> durable;
    SampleBatch batch;
    batch.samples = std::move(samples);
    batch.provenance.connector = "test";
    ASSERT_EQ(historian_->submit(std::move(batch),
                                 [&durable](const Status& s) { durable.set_value(s); }),
              Admission::kAccepted);
    const Status s = durable.get_future().get();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Historian> historian_;
  std::unique_ptr<SeriesCatalog> catalog_;
  MetricsRegistry metrics_;
  SeriesId id_ = 0;
};

TEST_F(RealHistorianTest, QueryLatestAndHealthReflectStoredSamples) {
  const TimestampNs t0 = 1'700'000'000LL * kNanosPerSecond;
  std::vector<Sample> samples;
  for (int i = 0; i < 100; ++i)
    samples.push_back({id_, t0 + i * kNanosPerMilli, std::sin(i / 10.0), {}});
  store(std::move(samples));

  RouterOptions options;
  options.clock = [t0] { return t0 + kNanosPerSecond; };
  Router router(options, *catalog_, *historian_, metrics_);

  auto r = router.handle("GET", fmt::format("/api/v1/query?series={}&limit=60", id_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["points"].size(), 60u);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["points"][0][0], t0);
  r = router.handle("GET", fmt::format("/api/v1/query?series=site%2Fhall%2Fline2%2Fpress7%2Fforce"
                                       "&from={}",
                                       j["next_from"].get<std::string>()));
  EXPECT_EQ(nlohmann::json::parse(r.body)["points"].size(), 40u);

  r = router.handle("GET", fmt::format("/api/v1/series/{}/latest", id_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["ts_ns"], t0 + 99 * kNanosPerMilli);

  r = router.handle("GET", "/api/v1/health");
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["historian"]["samples_appended"], 100);
  EXPECT_EQ(j["historian"]["batches_appended"], 1);
}

TEST_F(RealHistorianTest, ServedOverTheSocket) {
  store({{id_, unix_now_ns() - kNanosPerSecond, 12.5, {}}});
  ApiOptions options;
  options.port = 0;
  ApiServer server(options, *catalog_, *historian_, metrics_);
  ASSERT_TRUE(server.start().is_ok());
  RawClient c(server.bound_port());
  ASSERT_TRUE(c.send(get_request("/api/v1/series")));
  const auto r = c.read_response();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["series"][0]["latest"]["value"], 12.5);
  server.stop();
}

}  // namespace
}  // namespace resonance::api::testing
