#pragma once
// A RouterTest with a real EgressGate over a policy text: gate() is the ExportGate a test hands to
// RouterOptions (export_gate or remote.gate); every path it is asked about is kept in asked_paths_
// and every decision in sink_.

#include <memory>
#include <string>
#include <vector>

#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"
#include "router_fixture.h"

namespace resonance::api::testing {

class GatedRouterTest : public RouterTest {
 protected:
  explicit GatedRouterTest(std::string_view policy_text) : policy_text_(policy_text) {}

  void SetUp() override {
    auto policy = governance::parse_policy(policy_text_, "gated-router-test.toml");
    ASSERT_TRUE(policy.has_value()) << policy.error().to_string();
    policy_ = std::make_shared<const governance::Policy>(std::move(*policy));
    gate_ = std::make_unique<governance::EgressGate>(policy_, sink_);
    RouterTest::SetUp();
  }

  ExportGate gate() {
    return [this](std::string_view path, std::string_view destination, std::string_view purpose) {
      asked_paths_.emplace_back(path);
      return gate_->decide(governance::make_subject(*policy_, nullptr, path), destination, purpose, kNow);
    };
  }

  std::string policy_text_;
  std::shared_ptr<const governance::Policy> policy_;
  governance::MemoryDecisionSink sink_;
  std::unique_ptr<governance::EgressGate> gate_;
  std::vector<std::string> asked_paths_;
};

}  // namespace resonance::api::testing
