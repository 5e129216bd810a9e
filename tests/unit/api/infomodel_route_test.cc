// GET /api/v1/infomodel and the units of GET /api/v1/series, through the real ApiServer over
// loopback: what a dashboard or an MES integration actually receives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "fake_historian.h"
#include "raw_client.h"
#include "resonance/api/api_server.h"
#include "resonance/infomodel/loader.h"

namespace resonance::api::testing {
namespace {

using nlohmann::json;

class InfomodelRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog.has_value()) << catalog.error().to_string();
    catalog_ = std::move(*catalog);
    ApiOptions options;
    options.port = 0;
    server_ = std::make_unique<ApiServer>(options, *catalog_, historian_, metrics_);
    const Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  RawResponse request(std::string_view target, std::string_view method = "GET") {
    RawClient c(server_->bound_port());
    EXPECT_TRUE(c.connected());
    EXPECT_TRUE(c.send(get_request(target, false, method)));
    auto r = c.read_response();
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(RawResponse{});
  }

  static json parse(const RawResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    return j;
  }

  static std::string error_message(const RawResponse& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = parse(r);
    if (!j.contains("error")) return {};
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    return j["error"]["message"].get<std::string>();
  }

  const json* series_entry(const json& list, std::string_view path) {
    for (const auto& e : list["series"])
      if (e["path"] == path) return &e;
    ADD_FAILURE() << "no series " << path << " in " << list.dump();
    return nullptr;
  }

  std::unique_ptr<SeriesCatalog> catalog_;
  FakeHistorian historian_;
  MetricsRegistry metrics_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(InfomodelRouteTest, WholeModelMatchesTheBuiltInModel) {
  const auto r = request("/api/v1/infomodel");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const json j = parse(r);
  const infomodel::Model& model = infomodel::builtin_model();
  EXPECT_EQ(j["schema_version"], model.schema_version);
  EXPECT_EQ(j["model_version"], model.model_version);
  ASSERT_EQ(j["categories"].size(), model.categories.size());
  EXPECT_EQ(j["categories"].size(), 12u);
  std::size_t signals = 0;
  for (std::size_t i = 0; i < model.categories.size(); ++i) {
    EXPECT_EQ(j["categories"][i]["id"], model.categories[i].id);
    ASSERT_EQ(j["categories"][i]["signals"].size(), model.categories[i].signals.size());
    signals += model.categories[i].signals.size();
  }
  EXPECT_GT(signals, 100u);
  EXPECT_EQ(j["ai_interfaces"].size(), 12u);
  EXPECT_EQ(j["units"].size(), model.units.size());
  EXPECT_EQ(j["hierarchy"].size(), model.hierarchy.size());
}

TEST_F(InfomodelRouteTest, CategoryParameterGivesOneCategory) {
  const auto r = request("/api/v1/infomodel?category=injection_moulding");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = parse(r);
  EXPECT_EQ(j["id"], "injection_moulding");
  EXPECT_FALSE(j.contains("categories"));
  const auto* cat = infomodel::builtin_model().find_category("injection_moulding");
  ASSERT_NE(cat, nullptr);
  ASSERT_EQ(j["signals"].size(), cat->signals.size());
  std::set<std::string> names;
  for (const auto& s : j["signals"]) names.insert(s["name"].get<std::string>());
  EXPECT_TRUE(names.contains("barrel_temperature_zone1")) << j["signals"].dump();
  for (const auto& s : j["signals"])
    if (s["name"] == "barrel_temperature_zone1") {
      EXPECT_EQ(s["unit"]["code"], "CEL");
      EXPECT_EQ(s["mappings"]["euromap77_83"].get<std::string>().find("none"), std::string::npos);
    }
}

TEST_F(InfomodelRouteTest, UnknownCategoryIs404NamingTheKnownOnes) {
  const auto msg = error_message(request("/api/v1/infomodel?category=toaster"), 404, "not_found");
  EXPECT_NE(msg.find("query parameter 'category': no category 'toaster'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("agv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("welding"), std::string::npos) << msg;
}

TEST_F(InfomodelRouteTest, UnknownOrRepeatedParameterIs400) {
  auto msg = error_message(request("/api/v1/infomodel?kind=robot"), 400, "invalid_argument");
  EXPECT_NE(msg.find("query parameter 'kind': unknown; expected category"), std::string::npos) << msg;
  msg = error_message(request("/api/v1/infomodel?category=agv&category=cnc"), 400, "invalid_argument");
  EXPECT_NE(msg.find("expected at most once"), std::string::npos) << msg;
}

TEST_F(InfomodelRouteTest, OnlyGetAndHead) {
  const auto r = request("/api/v1/infomodel", "POST");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD");
  RawClient c(server_->bound_port());
  ASSERT_TRUE(c.send(get_request("/api/v1/infomodel?category=agv", false, "HEAD")));
  bool closed = false;
  const std::string all = c.read_until_close(&closed);
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200")) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\n")) << "HEAD response carried a body";
}

TEST_F(InfomodelRouteTest, SeriesListingTakesUnitsFromTheModelWhenTheCatalogHasNone) {
  // As MQTT-SN registers them: a path, no unit.
  const SeriesId temp = *catalog_->resolve("plant/a/l1/imm-01/barrel_temperature_zone2");
  const SeriesId load = *catalog_->resolve("plant/a/l1/agv-2/load_weight");
  // As OPC UA registers them: the server's EUInformation wins over the model.
  const SeriesId opc = *catalog_->resolve("plant/a/l1/cnc-01/spindle_speed", "HZ");
  // Not in the model, no unit anywhere; and a unitless signal (a state).
  const SeriesId foreign = *catalog_->resolve("plant/a/l1/pump1/pressure");
  const SeriesId state = *catalog_->resolve("plant/a/l1/cnc-01/execution_state");
  historian_.add({temp, unix_now_ns(), 231.5, {}});

  const auto r = request("/api/v1/series");
  ASSERT_EQ(r.status, 200) << r.body;
  const json list = parse(r);
  ASSERT_EQ(list["series"].size(), 5u);
  if (const json* e = series_entry(list, "plant/a/l1/imm-01/barrel_temperature_zone2")) {
    EXPECT_EQ((*e)["unit"], "CEL");
    EXPECT_EQ((*e)["unit_symbol"], "°C");
    EXPECT_EQ((*e)["unit_source"], "infomodel");
    EXPECT_EQ((*e)["latest"]["value"], 231.5);
  }
  if (const json* e = series_entry(list, "plant/a/l1/agv-2/load_weight")) {
    EXPECT_EQ((*e)["unit"], "KGM");
    EXPECT_EQ((*e)["unit_symbol"], "kg");
  }
  if (const json* e = series_entry(list, "plant/a/l1/cnc-01/spindle_speed")) {
    EXPECT_EQ((*e)["unit"], "HZ");
    EXPECT_EQ((*e)["unit_source"], "catalog");
  }
  for (auto path : {"plant/a/l1/pump1/pressure", "plant/a/l1/cnc-01/execution_state"})
    if (const json* e = series_entry(list, path)) {
      EXPECT_TRUE((*e)["unit"].is_null()) << path;
      EXPECT_TRUE((*e)["unit_symbol"].is_null()) << path;
      EXPECT_TRUE((*e)["unit_source"].is_null()) << path;
    }

  // /latest carries the same unit fields.
  const auto latest = request("/api/v1/series/" + std::to_string(temp) + "/latest");
  ASSERT_EQ(latest.status, 200) << latest.body;
  const json lj = parse(latest);
  EXPECT_EQ(lj["unit"], "CEL");
  EXPECT_EQ(lj["unit_symbol"], "°C");
  (void)load, (void)opc, (void)foreign, (void)state;
}

}  // namespace
}  // namespace resonance::api::testing
