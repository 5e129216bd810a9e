// GET /api/v1/quarantine over the Router, with an in-memory and a durable Quarantine.

#include <unistd.h>

#include <filesystem>

#include "router_fixture.h"

namespace resonance::api::testing {
namespace {

QuarantineEntry entry(TimestampNs at, std::string code) {
  QuarantineEntry e;
  e.reason = "payload (batch): count 0 must be 1..16384 at offset 10";
  e.reason_code = std::move(code);
  e.stage = "mqttsn";
  e.connector = "mqttsn";
  e.client_id = "dev1";
  e.source = "127.0.0.1:40000";
  e.topic = "plant1/area1/line1/pump1/pressure";
  e.receive_ts_ns = at;
  const std::uint8_t raw[] = {0x02, 0x00};
  e.set_raw(raw);
  return e;
}

class QuarantineRouteTest : public RouterTest {
 protected:
  RouterOptions options() override {
    RouterOptions o = RouterTest::options();
    o.quarantine = &quarantine_;
    return o;
  }
  void SetUp() override {
    RouterTest::SetUp();
    for (int i = 0; i < 5; ++i) quarantine_.add(entry(kNow - (5 - i) * kNanosPerSecond, i < 3 ? "payload" : "json"));
    QuarantineEntry s;
    s.sample = {pump_, kNow - 1000, 2.5, {Quality::kBad}};
    s.reason = "timestamp outside window";
    s.stage = "validation";
    s.receive_ts_ns = kNow;
    quarantine_.add(std::move(s));
  }
  MetricsRegistry qmetrics_;
  Quarantine quarantine_{qmetrics_, 100};
};

TEST_F(QuarantineRouteTest, ListsNewestFirstWithEveryField) {
  const auto r = get("/api/v1/quarantine");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = body_json(r);
  EXPECT_EQ(j["count"], 6);
  EXPECT_EQ(j["total"], 6);
  EXPECT_EQ(j["dropped"], 0);
  EXPECT_EQ(j["durable"], false);
  const auto& first = j["entries"][0];
  EXPECT_EQ(first["reason_code"], "validation");
  EXPECT_EQ(first["sample"]["series"], pump_);
  EXPECT_EQ(first["sample"]["value"], 2.5);
  EXPECT_EQ(first["received"], "2026-11-21T10:00:00.000000000Z");
  const auto& p = j["entries"][1];
  EXPECT_TRUE(p["sample"].is_null());
  EXPECT_EQ(p["raw_hex"], "0200");
  EXPECT_EQ(p["raw_size"], 2);
  EXPECT_EQ(p["source"], "127.0.0.1:40000");
  EXPECT_EQ(p["client_id"], "dev1");
  EXPECT_EQ(p["topic"], "plant1/area1/line1/pump1/pressure");
  EXPECT_EQ(p["reason"], "payload (batch): count 0 must be 1..16384 at offset 10");
}

TEST_F(QuarantineRouteTest, FiltersByTimeReasonAndLimit) {
  auto j = body_json(get("/api/v1/quarantine?reason=payload"));
  EXPECT_EQ(j["count"], 3);
  j = body_json(get("/api/v1/quarantine?reason=json&limit=1"));
  ASSERT_EQ(j["count"], 1);
  EXPECT_EQ(j["entries"][0]["received_ns"], kNow - kNanosPerSecond);
  j = body_json(get("/api/v1/quarantine?from=2026-11-21T09:59:56Z&to=2026-11-21T09:59:58Z"));
  EXPECT_EQ(j["count"], 3);
}

TEST_F(QuarantineRouteTest, BadParametersAreNamed) {
  EXPECT_EQ(expect_error(get("/api/v1/quarantine?limit=0"), 400, "invalid_argument"),
            "query parameter 'limit': expected an integer from 1 to 1000, found '0'");
  EXPECT_EQ(expect_error(get("/api/v1/quarantine?from=yesterday"), 400, "invalid_argument"),
            "query parameter 'from': expected RFC 3339 time or integer nanoseconds, found 'yesterday'");
  EXPECT_EQ(expect_error(get("/api/v1/quarantine?reason=Bad%20One"), 400, "invalid_argument"),
            "query parameter 'reason': expected a reason code of [a-z0-9_] (1..32 bytes), found 'Bad One'");
  EXPECT_EQ(expect_error(get("/api/v1/quarantine?series=1"), 400, "invalid_argument"),
            "query parameter 'series': unknown; expected from, to, reason or limit");
  EXPECT_EQ(expect_error(get("/api/v1/quarantine?from=2&to=1"), 400, "invalid_argument").substr(0, 44),
            "query parameters 'from' and 'to': from (1970");
  EXPECT_EQ(router_->handle("POST", "/api/v1/quarantine").status, 405);
}

TEST_F(RouterTest, QuarantineWithoutOneIsNotFound) {
  expect_error(get("/api/v1/quarantine"), 404, "not_found");
}

TEST_F(RouterTest, QuarantineServesADurableStore) {
  const auto path = std::filesystem::temp_directory_path() / fmt::format("qroute_{}.sqlite", ::getpid());
  std::filesystem::remove(path);
  MetricsRegistry m;
  {
    auto q = Quarantine::open(path, m);
    ASSERT_TRUE(q) << q.error().to_string();
    q->get()->add(entry(kNow, "payload"));
    RouterOptions o = options();
    o.quarantine = q->get();
    Router router(o, *catalog_, historian_, metrics_);
    const auto j = body_json(router.handle("GET", "/api/v1/quarantine"));
    EXPECT_EQ(j["durable"], true);
    EXPECT_EQ(j["count"], 1);  // a query flushes what is pending first
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

}  // namespace
}  // namespace resonance::api::testing
