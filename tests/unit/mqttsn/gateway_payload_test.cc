// The gateway's payload forms (tags 0x01/0x02/0x03, JSON) and topic kinds (series path vs
// equipment prefix), and what it does with refused payloads (the quarantine), over real UDP
// loopback with the real Client (fixture: gateway_fixture.h).

#include <algorithm>

#include "resonance/pipeline/quarantine.h"
#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

constexpr std::string_view kEquipment = "plant1/press/line2/p7";
constexpr TimestampNs kT0 = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

class GatewayPayloadTest : public GatewayTest {
 protected:
  void SetUp() override {
    options_.quarantine = &quarantine_;
    GatewayTest::SetUp();
  }
  // The gateway (a base member) may add to the quarantine until it stops: stop it first.
  void TearDown() override { gateway_.reset(); }

  std::vector<QuarantineEntry> quarantined(std::size_t n) {
    EXPECT_TRUE(eventually([&] { return quarantine_.recent().size() >= n; }))
        << quarantine_.recent().size() << " entries";
    return quarantine_.recent();
  }
  SeriesId series(std::string_view path) const {
    auto info = catalog_->find(path);
    return info ? info->id : 0;
  }
  // The samples of the one stored batch, sorted by (series, time) for comparison.
  std::vector<Sample> stored(std::size_t i = 0) const {
    auto samples = consumer_.batch(i).samples;
    std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) {
      return std::tie(a.series, a.ts_ns) < std::tie(b.series, b.ts_ns);
    });
    return samples;
  }

  Quarantine quarantine_{metrics_, 100};
};

// ---- quarantine ---------------------------------------------------------------------------------

TEST_F(GatewayPayloadTest, UndecodablePayloadIsQuarantinedWithAllFields) {
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const auto text = bytes_of("42");
  EXPECT_EQ(*client->publish_qos1(topic, text), PublishOutcome::kNotSupported);  // rc 0x03 as documented
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  const QuarantineEntry& e = entries[0];
  EXPECT_EQ(e.reason_code, "payload");
  EXPECT_EQ(e.reason.rfind("payload: unknown format tag 0x34 at offset 0", 0), 0u) << e.reason;
  EXPECT_EQ(e.stage, "mqttsn_gateway");
  EXPECT_EQ(e.connector, "mqttsn");
  EXPECT_EQ(e.client_id, "press-7");
  EXPECT_EQ(e.source.rfind("127.0.0.1:", 0), 0u) << e.source;
  EXPECT_GT(std::stoi(e.source.substr(10)), 0);
  EXPECT_EQ(e.topic, kPath);
  EXPECT_EQ(e.raw_hex, "3432");
  EXPECT_EQ(e.raw_size, 2u);
  EXPECT_FALSE(e.has_sample());
  EXPECT_GT(e.receive_ts_ns, 0);
  EXPECT_EQ(consumer_.batch_count(), 0u);
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"payload\""), 1u);
  EXPECT_EQ(counter("resonance_quarantine_entries_total", "reason=\"payload\""), 1u);
}

TEST_F(GatewayPayloadTest, RefusedQos0PayloadIsQuarantinedToo) {
  // No PUBACK to tell the client: the quarantine is the only record, so it must be there.
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const std::vector<std::uint8_t> cut = {0x02, 0x09, 0x18, 0x86};  // a batch cut off after 4 bytes
  ASSERT_TRUE(client->publish_qos0(topic, cut).is_ok());
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason_code, "payload");
  EXPECT_NE(entries[0].reason.find("payload (batch)"), std::string::npos) << entries[0].reason;
  EXPECT_EQ(entries[0].raw_hex, "02091886");
  EXPECT_EQ(entries[0].topic, kPath);
}

TEST_F(GatewayPayloadTest, BatchThePipelineRejectedIsQuarantined) {
  consumer_.set_answer(Admission::kRejected);
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const auto payload = sample_payload(7.0);
  EXPECT_EQ(*client->publish_qos1(topic, payload), PublishOutcome::kNotSupported);
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason_code, "rejected");
  EXPECT_NE(entries[0].reason.find("rejected the whole batch of 1 sample(s)"), std::string::npos)
      << entries[0].reason;
  EXPECT_EQ(entries[0].client_id, "press-7");
  EXPECT_EQ(entries[0].topic, kPath);
  EXPECT_EQ(entries[0].raw_size, payload.size());
  EXPECT_EQ(entries[0].raw_hex.size(), 2 * payload.size());
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"pipeline\""), 1u);
}

TEST_F(GatewayPayloadTest, AcceptedPayloadsAreNotQuarantined) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  EXPECT_EQ(*client->publish_qos1(topic, sample_payload()), PublishOutcome::kAccepted);
  EXPECT_EQ(quarantine_.total(), 0u);
}

// ---- single-series forms on series topics -------------------------------------------------------

TEST_F(GatewayPayloadTest, BatchPayloadOnASeriesTopicIsStored) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const std::vector<PayloadSample> samples = {
      {.ts_ns = kT0, .value = 21.5, .quality = {}},
      {.ts_ns = kT0 + 1'000'000'000, .value = 21.75, .quality = {}},
      {.ts_ns = kT0 + 2'000'000'000, .value = 22.0, .quality = Quality{0x40000000}},
  };
  auto payload = encode_batch(samples, {.per_sample_quality = true, .float32_values = false,
                                        .delta_unit = DeltaUnit::kMillis});
  ASSERT_TRUE(payload) << payload.error().message();
  EXPECT_EQ(*client->publish_qos1(topic, *payload), PublishOutcome::kAccepted);
  ASSERT_EQ(consumer_.batch_count(), 1u);
  const auto got = stored();
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].series, series(kPath));
    EXPECT_EQ(got[i].ts_ns, samples[i].ts_ns);
    EXPECT_EQ(got[i].value, samples[i].value);
    EXPECT_EQ(got[i].quality, samples[i].quality);
  }
  EXPECT_EQ(counter("resonance_mqttsn_samples_total"), 3u);
}

TEST_F(GatewayPayloadTest, JsonSingleAndSamplesOnASeriesTopicAreStored) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  EXPECT_EQ(*client->publish_qos1(topic, bytes_of(R"({"ts":"2026-01-01T00:00:00Z","v":1.5,"q":"uncertain"})")),
            PublishOutcome::kAccepted);
  EXPECT_EQ(*client->publish_qos1(
                topic, bytes_of(R"({"samples":[{"ts":1767225601000000000,"v":2},{"ts":1767225602000000000,"v":true}]})")),
            PublishOutcome::kAccepted);
  ASSERT_EQ(consumer_.batch_count(), 2u);
  const auto one = stored(0);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].series, series(kPath));
  EXPECT_EQ(one[0].ts_ns, kT0);
  EXPECT_EQ(one[0].value, 1.5);
  EXPECT_EQ(one[0].quality, Quality{0x40000000});
  const auto two = stored(1);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].ts_ns, kT0 + 1'000'000'000);
  EXPECT_EQ(two[0].value, 2.0);
  EXPECT_EQ(two[1].value, 1.0);
  EXPECT_EQ(two[1].series, series(kPath));
}

TEST_F(GatewayPayloadTest, MultiSignalPayloadOnASeriesTopicIsRefused) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const std::vector<SignalSamples> signals = {{"speed", {{.ts_ns = kT0, .value = 1.0, .quality = {}}}}};
  auto payload = encode_multi_signal(signals);
  ASSERT_TRUE(payload);
  EXPECT_EQ(*client->publish_qos1(topic, *payload), PublishOutcome::kNotSupported);
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].reason.find("needs a topic that is a path prefix"), std::string::npos)
      << entries[0].reason;
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

// ---- equipment prefixes and multi-signal forms --------------------------------------------------

TEST_F(GatewayPayloadTest, RegisterOfAnEquipmentPrefixIsAcceptedAndCreatesNoSeries) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  auto topic = client->register_topic(kEquipment);
  ASSERT_TRUE(topic) << topic.error().message();
  EXPECT_EQ(*topic, 1);
  EXPECT_TRUE(catalog_->list().empty());
  // The prefix must be valid: a bad segment or a wrong segment count is refused with rc 0x03.
  EXPECT_FALSE(client->register_topic("plant1/pr ess/line2/p7"));
  EXPECT_FALSE(client->register_topic("plant1/press/line2"));
  EXPECT_EQ(counter("resonance_mqttsn_register_rejected_total"), 2u);
}

TEST_F(GatewayPayloadTest, MultiSignalBatchIsOneBatchAckedOnlyWhenDurable) {
  consumer_.set_hold(true);
  auto options = client_options("press-7");
  options.retry_timeout_ms = 400;
  options.max_retries = 20;
  auto client = connect(options);
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kEquipment);
  const std::vector<SignalSamples> signals = {
      {"temperature",
       {{.ts_ns = kT0, .value = 21.5, .quality = {}}, {.ts_ns = kT0 + 500'000'000, .value = 21.75, .quality = {}}}},
      {"spindle.speed", {{.ts_ns = kT0, .value = 1200.0, .quality = Quality{0x40000000}}}},
  };
  auto payload = encode_multi_signal(signals, {.per_sample_quality = true, .float32_values = false,
                                               .delta_unit = DeltaUnit::kMillis});
  ASSERT_TRUE(payload) << payload.error().message();
  auto outcome = std::async(std::launch::async, [&] { return client->publish_qos1(topic, *payload); });
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 1; }));
  EXPECT_EQ(outcome.wait_for(800ms), std::future_status::timeout);  // not durable: no PUBACK
  EXPECT_EQ(pubacks("accepted"), 0u);
  consumer_.release();
  ASSERT_EQ(outcome.wait_for(3000ms), std::future_status::ready);
  auto result = outcome.get();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kAccepted);

  ASSERT_EQ(consumer_.batch_count(), 1u);  // one batch for all signals, stored once
  const SeriesId temperature = series("plant1/press/line2/p7/temperature");
  const SeriesId speed = series("plant1/press/line2/p7/spindle.speed");
  ASSERT_NE(temperature, 0u);
  ASSERT_NE(speed, 0u);
  const auto batch = consumer_.batch(0);
  EXPECT_EQ(batch.provenance.client_id, "press-7");
  std::vector<Sample> expected = {
      {.series = temperature, .ts_ns = kT0, .value = 21.5, .quality = {}},
      {.series = temperature, .ts_ns = kT0 + 500'000'000, .value = 21.75, .quality = {}},
      {.series = speed, .ts_ns = kT0, .value = 1200.0, .quality = Quality{0x40000000}},
  };
  std::sort(expected.begin(), expected.end(), [](const Sample& a, const Sample& b) {
    return std::tie(a.series, a.ts_ns) < std::tie(b.series, b.ts_ns);
  });
  const auto got = stored();
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].series, expected[i].series) << i;
    EXPECT_EQ(got[i].ts_ns, expected[i].ts_ns) << i;
    EXPECT_EQ(got[i].value, expected[i].value) << i;
    EXPECT_EQ(got[i].quality, expected[i].quality) << i;
  }
  EXPECT_EQ(counter("resonance_mqttsn_samples_total"), 3u);
}

TEST_F(GatewayPayloadTest, MultiSignalOverQos2IsStoredOnce) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kEquipment);
  const std::vector<SignalSamples> signals = {{"a", {{.ts_ns = kT0, .value = 1.0, .quality = {}}}},
                                              {"b", {{.ts_ns = kT0, .value = 2.0, .quality = {}}}}};
  auto payload = encode_multi_signal(signals, {.per_sample_quality = false, .float32_values = true,
                                               .delta_unit = DeltaUnit::kSeconds});
  ASSERT_TRUE(payload);
  auto result = client->publish(topic, 0, 2, *payload);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kAccepted);
  ASSERT_EQ(consumer_.batch_count(), 1u);
  const auto got = stored();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].series, series("plant1/press/line2/p7/a"));
  EXPECT_EQ(got[1].series, series("plant1/press/line2/p7/b"));
  EXPECT_EQ(got[1].value, 2.0);
}

TEST_F(GatewayPayloadTest, JsonSignalsOnAnEquipmentTopicAreStored) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kEquipment);
  const auto json = bytes_of(
      R"({"signals":{"temperature":{"ts":"2026-01-01T00:00:00Z","v":20.5},)"
      R"("spindle.speed":[{"ts":1767225600000000000,"v":1200},{"ts":1767225601000000000,"v":1210,"q":"bad"}]}})");
  EXPECT_EQ(*client->publish_qos1(topic, json), PublishOutcome::kAccepted);
  ASSERT_EQ(consumer_.batch_count(), 1u);
  const SeriesId temperature = series("plant1/press/line2/p7/temperature");
  const SeriesId speed = series("plant1/press/line2/p7/spindle.speed");
  ASSERT_NE(temperature, 0u);
  ASSERT_NE(speed, 0u);
  const auto batch = consumer_.batch(0);
  ASSERT_EQ(batch.samples.size(), 3u);
  std::size_t temperatures = 0;
  for (const Sample& s : batch.samples) {
    if (s.series == temperature) {
      ++temperatures;
      EXPECT_EQ(s.value, 20.5);
      EXPECT_EQ(s.ts_ns, kT0);
    } else {
      EXPECT_EQ(s.series, speed);
    }
  }
  EXPECT_EQ(temperatures, 1u);
  EXPECT_EQ(stored().back().value, 1210.0);
  EXPECT_EQ(stored().back().quality, Quality{0x80000000});
}

TEST_F(GatewayPayloadTest, InvalidSuffixRefusesTheWholePayloadAndCreatesNoSeries) {
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kEquipment);
  // "x/speed" makes a six-segment path: not a series path.
  const std::vector<SignalSamples> signals = {{"temperature", {{.ts_ns = kT0, .value = 1.0, .quality = {}}}},
                                              {"x/speed", {{.ts_ns = kT0, .value = 2.0, .quality = {}}}}};
  auto payload = encode_multi_signal(signals);
  ASSERT_TRUE(payload) << payload.error().message();
  EXPECT_EQ(*client->publish_qos1(topic, *payload), PublishOutcome::kNotSupported);
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason_code, "payload");
  EXPECT_NE(entries[0].reason.find("signal 'x/speed' on topic 'plant1/press/line2/p7'"), std::string::npos)
      << entries[0].reason;
  EXPECT_EQ(entries[0].topic, kEquipment);
  EXPECT_EQ(entries[0].client_id, "press-7");
  EXPECT_EQ(consumer_.batch_count(), 0u);
  EXPECT_TRUE(catalog_->list().empty());  // not even the valid "temperature"
}

TEST_F(GatewayPayloadTest, SignalsPerEquipmentAreCappedAcrossRestarts) {
  options_.max_signals_per_equipment = 2;
  restart_gateway();
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  auto topic = *client->register_topic(kEquipment);
  auto signal = [](std::string suffix, double v) {
    return SignalSamples{std::move(suffix), {{.ts_ns = kT0, .value = v, .quality = {}}}};
  };
  const std::vector<SignalSamples> two = {signal("temperature", 1.0), signal("speed", 2.0)};
  EXPECT_EQ(*client->publish_qos1(topic, *encode_multi_signal(two)), PublishOutcome::kAccepted);
  // A third signal would exceed the cap: the whole payload is refused, nothing is created.
  const std::vector<SignalSamples> three = {signal("temperature", 3.0), signal("pressure", 4.0)};
  EXPECT_EQ(*client->publish_qos1(topic, *encode_multi_signal(three)), PublishOutcome::kNotSupported);
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason_code, "payload");
  EXPECT_NE(entries[0].reason.find("1 new signal(s) on topic 'plant1/press/line2/p7' would exceed "
                                   "max_signals_per_equipment (2; it has 2)"),
            std::string::npos)
      << entries[0].reason;
  EXPECT_EQ(series("plant1/press/line2/p7/pressure"), 0u);
  // Known signals still go through; another equipment has its own budget.
  EXPECT_EQ(*client->publish_qos1(topic, *encode_multi_signal(std::vector{signal("speed", 5.0)})),
            PublishOutcome::kAccepted);
  const auto other = *client->register_topic("plant1/press/line2/p8");
  EXPECT_EQ(*client->publish_qos1(other, *encode_multi_signal(three)), PublishOutcome::kAccepted);
  // The count comes from the catalog, so a restart does not reset the budget.
  restart_gateway();
  client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  topic = *client->register_topic(kEquipment);
  EXPECT_EQ(*client->publish_qos1(topic, *encode_multi_signal(three)), PublishOutcome::kNotSupported);
  EXPECT_EQ(consumer_.batch_count(), 3u);
}

TEST_F(GatewayPayloadTest, SingleSeriesPayloadOnAnEquipmentTopicIsRefused) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kEquipment);
  EXPECT_EQ(*client->publish_qos1(topic, sample_payload()), PublishOutcome::kNotSupported);
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].reason.find("is an equipment prefix"), std::string::npos) << entries[0].reason;
  EXPECT_EQ(entries[0].raw_size, 21u);
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

TEST_F(GatewayPayloadTest, PredefinedEquipmentTopicTakesMultiSignalOverQosMinusOne) {
  gateway_.reset();
  options_.predefined_topics = {{7, std::string(kEquipment)}};
  start_gateway();
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const std::vector<SignalSamples> signals = {{"temperature", {{.ts_ns = kT0, .value = 3.0, .quality = {}}}}};
  auto payload = encode_multi_signal(signals);
  ASSERT_TRUE(payload);
  ASSERT_TRUE(client->publish(7, 1, -1, *payload));
  ASSERT_TRUE(eventually([&] { return consumer_.batch_count() == 1; }));
  const auto got = stored();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].series, series("plant1/press/line2/p7/temperature"));
  // A bad QoS -1 payload has no one to answer: the quarantine records it, with no client id.
  ASSERT_TRUE(client->publish(7, 1, -1, bytes_of("{")));
  const auto entries = quarantined(1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].client_id, "");
  EXPECT_EQ(entries[0].source.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(entries[0].topic, kEquipment);
  EXPECT_EQ(entries[0].raw_hex, "7b");
}

}  // namespace
}  // namespace resonance::mqttsn
