#pragma once
// A pipeline stand-in for the inference tests: records what it is given and reports it durable at
// once (or when released), or answers a fixed admission.

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
    if (hold) held.push_back(std::move(on_durable));
    else on_durable(Status::ok());
    return Admission::kAccepted;
  }
  // Fires the callbacks held so far with `status` (as a store's group commit would), in order.
  void release(const Status& status) {
    std::vector<DurableCallback> fire;
    {
      std::lock_guard lock(mu);
      fire.swap(held);
    }
    for (auto& cb : fire) cb(status);
  }
  std::size_t batch_count() {
    std::lock_guard lock(mu);
    return batches.size();
  }
  std::mutex mu;
  Admission answer = Admission::kAccepted;
  bool hold = false;  // keep the durable callbacks until release()
  std::vector<DurableCallback> held;
  std::vector<SampleBatch> batches;
  int calls = 0;
};

}  // namespace resonance::models::test_support
