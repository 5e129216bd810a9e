#pragma once
// The path of a batch: connector -> pipeline (validate, govern) -> historian -> fan-out -> sinks.
//
// Backpressure is explicit and never blocks a caller's event loop: `submit` answers at once with
// Accepted or RetryLater, and a connector turns RetryLater into its protocol's signal (MQTT-SN
// return code 0x01 "congestion", a slower OPC UA publishing interval).

#include <cstdint>
#include <functional>
#include <string_view>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance {

enum class Admission : std::uint8_t {
  kAccepted,    // taken; the durable callback will fire exactly once
  kRetryLater,  // a bound was hit (queue, memory, store read-only); nothing was taken
  kRejected,    // the batch as a whole is unacceptable; nothing was taken (reason counted)
};

std::string_view to_string(Admission admission);

// Fires exactly once per accepted batch: ok once every sample of the batch is durable (its WAL
// group commit has synced), an error if it never will be. It runs on an internal thread (the WAL
// flusher): keep it short and non-blocking, and post to your own event loop from it.
using DurableCallback = std::function<void(const Status&)>;

// Anything a connector can hand batches to. Thread-safe.
class BatchConsumer {
 public:
  virtual ~BatchConsumer() = default;
  virtual Admission submit(SampleBatch&& batch, DurableCallback on_durable) = 0;
};

// A named step that inspects or annotates a batch in place before it is stored. A stage may
// remove samples (they go to the quarantine with a reason) but never blocks.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual Status process(SampleBatch& batch) = 0;
};

// Receives every batch after it is durable, in commit order per producer. Must not block:
// a listener that cannot keep up answers RetryLater and the fan-out counts the drop (sinks put a
// durable store-and-forward queue in front of anything slow).
class DurableListener {
 public:
  virtual ~DurableListener() = default;
  virtual std::string_view name() const = 0;
  virtual Admission on_durable(const SampleBatch& batch) = 0;
};

}  // namespace resonance
