#pragma once
// The path of a batch: connector -> pipeline (validate, govern) -> historian -> fan-out -> sinks.
//
// Backpressure is explicit and never blocks a caller's event loop: `submit` answers at once with
// Accepted or RetryLater, and a connector turns RetryLater into its protocol's signal (MQTT-SN
// return code 0x01 "congestion", a slower OPC UA publishing interval).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

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

  // Several batches at once, each keeping its own Provenance (one device's identity per part),
  // with ONE DurableCallback for all of them: a connector that reads many messages per wake-up
  // (the MQTT-SN gateway) pays the per-submission costs (bounds check, callback, store lock,
  // posting back to its loop) once per group instead of once per message.
  //
  // Returns one Admission per part, in order; each means what submit() would have answered for
  // that part alone (Accepted parts are taken, the others are not, and a part may be Rejected or
  // RetryLater while others are Accepted). `on_durable` fires exactly once if at least one part
  // was Accepted — ok once EVERY accepted part is durable, the first error otherwise — and never
  // if none was. Parts whose answer is not Accepted are left in `parts` untouched or emptied.
  //
  // This default submits the parts one by one (correct for any consumer, and the historian's
  // own admission rules stay in one place, its submit()); the pipeline overrides it.
  virtual std::vector<Admission> submit_group(std::span<SampleBatch> parts, DurableCallback on_durable) {
    // Owns itself: every accepted part's callback and the submitter each hold one count, and the
    // last to arrive fires `done` and frees it. A raw pointer in each part's callback (instead of
    // a shared_ptr) keeps that std::function free of a heap allocation per part.
    struct Join {
      std::mutex mu;
      std::size_t waiting = 1;  // the submitter's hold until every part is submitted
      Status first_error = Status::ok();
      DurableCallback done;
      static void arrive(Join* join, const Status& status) {
        {
          std::lock_guard lock(join->mu);
          if (!status.is_ok() && join->first_error.is_ok()) join->first_error = status;
          if (--join->waiting > 0) return;
        }
        DurableCallback fire = std::move(join->done);
        const Status result = join->first_error;
        delete join;
        if (fire) fire(result);
      }
    };
    auto* join = new Join;
    join->done = std::move(on_durable);
    std::vector<Admission> out;
    out.reserve(parts.size());
    bool any = false;
    for (SampleBatch& part : parts) {
      {
        std::lock_guard lock(join->mu);
        ++join->waiting;
      }
      const Admission a = submit(std::move(part), [join](const Status& s) { Join::arrive(join, s); });
      if (a != Admission::kAccepted) {
        std::lock_guard lock(join->mu);
        --join->waiting;  // no callback will come for it (cannot reach 0: the hold is still there)
      }
      any = any || a == Admission::kAccepted;
      out.push_back(a);
    }
    if (!any) join->done = nullptr;  // nothing taken: the callback must not fire
    Join::arrive(join, Status::ok());  // releases the hold; fires now if every part is durable already
    return out;
  }
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

// Sees every batch the store has taken, before it is durable, on the submitting thread (any
// connector's), right after the store accepted it. For a consumer whose own writes, stored later
// in the same log, prove the input durable once they are: the inference scheduler runs models on
// accepted samples and releases a window's record only when its outputs are durable, so a sample
// waits for one group commit on its way to a model output instead of two. Must not block and must
// be thread-safe; an answer other than Accepted is counted, nothing else (the batch is stored
// regardless). A batch the store refuses, or that fails to become durable after being accepted,
// is never un-seen: such a listener must only trust what its own durable writes confirm.
class AcceptedListener {
 public:
  virtual ~AcceptedListener() = default;
  virtual std::string_view name() const = 0;
  virtual Admission on_accepted(const SampleBatch& batch) = 0;
};

}  // namespace resonance
