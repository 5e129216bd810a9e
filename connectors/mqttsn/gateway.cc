#include "connectors/mqttsn/gateway.h"

#include <spdlog/spdlog.h>

#include "connectors/mqttsn/gateway_loop.h"

namespace resonance::mqttsn {

Gateway::Gateway(GatewayOptions options, BatchConsumer& pipeline, SeriesCatalog& catalog,
                 MetricsRegistry& metrics)
    : options_(std::move(options)), pipeline_(pipeline), catalog_(catalog), metrics_(metrics) {}

Gateway::~Gateway() { stop(); }

Status Gateway::start() {
  if (loop_ || stopped_)
    return Status(StatusCode::kFailedPrecondition, "mqttsn: gateway already started (a stopped gateway cannot be restarted)");
  auto loop = std::make_unique<GatewayLoop>(options_, pipeline_, catalog_, metrics_);
  if (Status s = loop->bind(); !s) return s;
  loop_ = std::move(loop);
  thread_ = std::thread([loop = loop_.get()] { loop->run(); });
  spdlog::info("mqttsn: gateway listening on UDP {}:{}", options_.bind_address, loop_->bound_port());
  return Status::ok();
}

void Gateway::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!loop_) return;
  loop_->shutdown();
  if (thread_.joinable()) thread_.join();
  loop_.reset();  // closes the socket; queued durable completions are discarded
}

std::uint16_t Gateway::bound_port() const { return loop_ ? loop_->bound_port() : 0; }

}  // namespace resonance::mqttsn
