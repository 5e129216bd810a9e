#pragma once
// A pipeline stand-in for the inference tests: records what it is given and reports it durable at
// once, or answers a fixed admission.

#include <mutex>
#include <vector>

#include "resonance/pipeline/pipeline.h"

namespace resonance::models::test_support {

class FakeConsumer final : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    std::lock_guard lock(mu);
    ++calls;
    if (answer != Admission::kAccepted) return answer;
    batches.push_back(std::move(batch));
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::mutex mu;
  Admission answer = Admission::kAccepted;
  std::vector<SampleBatch> batches;
  int calls = 0;
};

}  // namespace resonance::models::test_support
