#pragma once
// A BatchConsumer that reports every batch durable at once and keeps it for the test.

#include <mutex>
#include <vector>

#include "resonance/pipeline/pipeline.h"

namespace resonance::mqttsn::conformance::testing {

class DurableConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    {
      std::lock_guard lock(mu_);
      samples_ += batch.samples.size();
      ++batches_;
    }
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::size_t samples() const {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  mutable std::mutex mu_;
  std::size_t samples_ = 0;
  std::size_t batches_ = 0;
};

}  // namespace resonance::mqttsn::conformance::testing
