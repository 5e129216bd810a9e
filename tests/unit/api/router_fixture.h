#pragma once
// A Router over a fresh in-memory catalog and a FakeHistorian, with "now" pinned.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_historian.h"
#include "resonance/api/router.h"

namespace resonance::api::testing {

// 2026-11-21T10:00:00Z
inline constexpr TimestampNs kNow = 1'795'255'200LL * kNanosPerSecond;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog.has_value()) << catalog.error().to_string();
    catalog_ = std::move(*catalog);
    pump_ = *catalog_->resolve("plant1/area1/line1/pump1/pressure", "bar");
    motor_ = *catalog_->resolve("plant1/area1/line1/motor1/speed", "rpm");
    // pump1/flow exists but has never received data.
    empty_ = *catalog_->resolve("plant1/area1/line1/pump1/flow", "m3/h");
    for (int i = 0; i < 10; ++i)
      historian_.add({pump_, kNow - (10 - i) * kNanosPerSecond, 1.5 + i, Quality{}});
    historian_.add({motor_, kNow - kNanosPerSecond, 1450.0, Quality{Quality::kUncertain}});
    router_ = std::make_unique<Router>(options(), *catalog_, historian_, metrics_);
  }

  virtual RouterOptions options() {
    RouterOptions o;
    o.max_points = 1000;
    o.node_name = "test-node";
    o.clock = [] { return kNow; };
    return o;
  }

  Response get(std::string_view target) { return router_->handle("GET", target); }

  static nlohmann::json body_json(const Response& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    return j;
  }

  // The one error shape: {"error":{"code":...,"message":...}}; returns the message.
  static std::string expect_error(const Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    const auto j = body_json(r);
    if (!j.contains("error")) {
      ADD_FAILURE() << "no error object in " << r.body;
      return {};
    }
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    return j["error"]["message"].get<std::string>();
  }

  std::unique_ptr<SeriesCatalog> catalog_;
  FakeHistorian historian_;
  MetricsRegistry metrics_;
  std::unique_ptr<Router> router_;
  SeriesId pump_ = 0, motor_ = 0, empty_ = 0;
};

}  // namespace resonance::api::testing
