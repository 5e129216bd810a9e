#include "src/app/node_config.h"

#include <gtest/gtest.h>

namespace resonance::app {
namespace {

TEST(NodeConfig, DefaultsAreSafe) {
  const NodeConfig n = to_node_config(default_config(node_schema()));
  // Nothing listens beyond loopback unless configured.
  EXPECT_EQ(n.api_bind, "127.0.0.1");
  EXPECT_EQ(n.mqttsn_bind, "127.0.0.1");
  EXPECT_EQ(n.historian_durability, "sync");
  EXPECT_EQ(n.api_port, 8080);
  EXPECT_EQ(n.mqttsn_port, 1884);
}

TEST(NodeConfig, GeneratedTomlParsesBackToDefaults) {
  auto c = parse_config(node_schema(), node_schema().to_toml(), "defaults.toml");
  ASSERT_TRUE(c) << c.error().message();
  const NodeConfig n = to_node_config(*c);
  EXPECT_EQ(n.group_commit_interval_us, 2000);
  EXPECT_EQ(n.max_in_flight_batches, 4096);
}

TEST(NodeConfig, ValuesReachTheTypedView) {
  auto c = parse_config(node_schema(),
                        "[node]\nname = \"cell-7\"\ndata_dir = \"/srv/r\"\n[historian]\ndurability = \"none\"\n"
                        "[mqttsn]\nport = 0\nenabled = false\n[api]\nbind = \"::1\"\n",
                        "n.toml");
  ASSERT_TRUE(c) << c.error().message();
  const NodeConfig n = to_node_config(*c);
  EXPECT_EQ(n.node_name, "cell-7");
  EXPECT_EQ(n.data_dir, "/srv/r");
  EXPECT_EQ(n.historian_durability, "none");
  EXPECT_EQ(n.mqttsn_port, 0);
  EXPECT_FALSE(n.mqttsn_enabled);
  EXPECT_EQ(n.api_bind, "::1");
}

TEST(NodeConfig, HistorianSectionBecomesOptionsWithCheckedDurations) {
  auto c = parse_config(node_schema(),
                        "[historian]\npartition = \"1d\"\nchunk_samples = 4096\nchunk_flush_interval_ms = 250\n"
                        "seal_idle = \"30s\"\nretention = \"30d\"\nwal_segment_bytes = 1048576\n",
                        "h.toml");
  ASSERT_TRUE(c) << c.error().message();
  auto o = historian_options(to_node_config(*c));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->partition_ns, 86'400'000'000'000);
  EXPECT_EQ(o->chunk_samples, 4096u);
  EXPECT_EQ(o->chunk_flush_interval_ms, 250);
  EXPECT_EQ(o->seal_idle_ms, 30'000);
  EXPECT_EQ(o->retention_ns, 30 * 86'400'000'000'000);
  EXPECT_EQ(o->wal_segment_bytes, 1u << 20);
  // Defaults: keep forever, 1 h partitions.
  auto d = historian_options(to_node_config(default_config(node_schema())));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->retention_ns, 0);
  EXPECT_EQ(d->partition_ns, 3'600'000'000'000);

  NodeConfig bad = to_node_config(default_config(node_schema()));
  bad.historian_retention = "30 days";
  auto e = historian_options(bad);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(),
            "config key historian.retention: expected a duration of at least 1m, or 0 (keep forever) (units ns, "
            "us, ms, s, m, h, d), found \"30 days\"");
  bad = to_node_config(default_config(node_schema()));
  bad.historian_partition = "10s";
  ASSERT_FALSE(historian_options(bad));
  // Integer keys are bounded by the schema itself.
  EXPECT_FALSE(parse_config(node_schema(), "[historian]\nchunk_samples = 70000\n", "b.toml"));
}

}  // namespace
}  // namespace resonance::app
