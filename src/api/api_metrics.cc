#include <fmt/format.h>

#include "resonance/api/router.h"

namespace resonance::api {

namespace {
constexpr const char* kRequests = "resonance_api_requests_total";
constexpr const char* kBadRequests = "resonance_api_bad_requests_total";
}  // namespace

ApiMetrics::ApiMetrics(MetricsRegistry& registry)
    : accepted_(registry.counter("resonance_api_connections_total",
                                 "HTTP connections accepted by the API server")),
      rejected_(registry.counter("resonance_api_connections_rejected_total",
                                 "HTTP connections closed at once because max_connections was hit")),
      open_(registry.gauge("resonance_api_connections_open", "HTTP connections currently open")) {
  // Registered up front so every series shows (as 0) before the first request, and so the hot
  // path never takes the registry lock.
  for (std::size_t cls = 1; cls < by_class_.size(); ++cls)
    by_class_[cls] = &registry.counter(kRequests, "HTTP responses sent by the API, by status class",
                                       fmt::format("class=\"{}xx\"", cls));
  for (std::size_t i = 0; i < kReasons.size(); ++i)
    by_reason_[i] = &registry.counter(kBadRequests, "HTTP requests refused with a 4xx, by reason",
                                      fmt::format("reason=\"{}\"", kReasons[i]));
}

void ApiMetrics::count_response(int status, std::string_view reason) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) by_class_[static_cast<std::size_t>(cls)]->inc();
  if (cls != 4) return;
  if (reason.empty()) {
    switch (status) {
      case 400: reason = "invalid_argument"; break;
      case 404: reason = "not_found"; break;
      case 405: reason = "method_not_allowed"; break;
      case 413: reason = "body_too_large"; break;
      case 431: reason = "header_too_large"; break;
      default: reason = "other"; break;
    }
  }
  for (std::size_t i = 0; i < kReasons.size(); ++i) {
    if (kReasons[i] == reason) {
      by_reason_[i]->inc();
      return;
    }
  }
  by_reason_.back()->inc();  // "other"
}

void ApiMetrics::connection_opened() {
  accepted_.inc();
  open_.set(static_cast<double>(open_count_.fetch_add(1, std::memory_order_relaxed) + 1));
}

void ApiMetrics::connection_closed() {
  open_.set(static_cast<double>(open_count_.fetch_sub(1, std::memory_order_relaxed) - 1));
}

void ApiMetrics::connection_rejected() { rejected_.inc(); }

}  // namespace resonance::api
