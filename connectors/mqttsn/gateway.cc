#include "connectors/mqttsn/gateway.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "connectors/mqttsn/gateway_loop.h"

namespace resonance::mqttsn {

Gateway::Gateway(GatewayOptions options, BatchConsumer& pipeline, SeriesCatalog& catalog,
                 MetricsRegistry& metrics)
    : options_(std::move(options)), pipeline_(pipeline), catalog_(catalog), metrics_(metrics) {}

Gateway::~Gateway() { stop(); }

Status Gateway::start() {
  std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (!loop_) return;
  loop_->shutdown();
  if (thread_.joinable()) thread_.join();
  loop_->persist_now();  // the loop has ended: this thread may touch its state
  loop_->drain_persist();
  loop_.reset();         // closes the socket; queued durable completions are discarded
}

std::uint16_t Gateway::bound_port() const {
  std::lock_guard lock(mu_);
  return loop_ ? loop_->bound_port() : 0;
}

bool Gateway::publish_to_devices(std::string topic_name, std::vector<std::uint8_t> payload, int qos,
                                 bool retain) {
  std::lock_guard lock(mu_);
  if (!loop_ || stopped_) return false;
  loop_->post_deliver(std::move(topic_name), std::move(payload), qos, retain);
  return true;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    std::string_view item = text.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = end + 1;
  }
  return out;
}

Result<std::map<std::uint16_t, std::string>> parse_predefined_topics(std::string_view text) {
  std::map<std::uint16_t, std::string> out;
  std::size_t n = 0;
  for (const auto& entry : split_list(text)) {
    ++n;
    const auto eq = entry.find('=');
    auto fail = [&](std::string_view why) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("mqttsn.predefined_topics entry {} '{}': {}", n, entry, why));
    };
    if (eq == std::string::npos) return fail("must be id=topic");
    unsigned id = 0;
    auto [p, ec] = std::from_chars(entry.data(), entry.data() + eq, id);
    if (ec != std::errc() || p != entry.data() + eq || id == 0 || id > 0xFFFF)
      return fail("the id must be 1..65535");
    if (eq + 1 >= entry.size()) return fail("the topic is empty");
    if (!out.emplace(static_cast<std::uint16_t>(id), entry.substr(eq + 1)).second)
      return fail("the id is defined twice");
  }
  return out;
}

}  // namespace resonance::mqttsn
