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

}  // namespace
}  // namespace resonance::app
