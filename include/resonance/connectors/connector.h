#pragma once
// A southbound connector: decodes a wire protocol into SampleBatches and submits them.

#include <string>
#include <string_view>
#include <vector>
#include <utility>

#include "resonance/core/status.h"

namespace resonance {

class Connector {
 public:
  virtual ~Connector() = default;
  virtual std::string_view name() const = 0;
  virtual Status start() = 0;  // binds sockets, starts its event loop thread(s)
  virtual void stop() = 0;     // idempotent; returns when its threads have ended
};

}  // namespace resonance
