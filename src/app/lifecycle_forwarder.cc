#include "lifecycle_forwarder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "resonance/core/time.h"

namespace resonance::app {

namespace {

// Canonical body: compact, keys sorted (nlohmann's object is ordered by key).
std::string body_of(const models::StageEvent& e, const std::filesystem::path& registry) {
  const nlohmann::json body = {{"event", "stage_change"},
                               {"name", e.name},
                               {"version", e.version},
                               {"stage", e.stage},
                               {"seq", e.seq},
                               {"at", format_rfc3339(e.at_ns)},
                               {"manifest_sha256", e.manifest_sha256},
                               {"registry", registry.string()}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

LifecycleForwarder::LifecycleForwarder(audit::Log& log, std::filesystem::path registry_file,
                                       std::filesystem::path cursor_file, std::chrono::milliseconds interval)
    : log_(log), registry_file_(std::move(registry_file)), cursor_file_(std::move(cursor_file)), interval_(interval) {}

LifecycleForwarder::~LifecycleForwarder() { stop(); }

Status LifecycleForwarder::save_cursor(std::int64_t seq) {
  const auto tmp = cursor_file_.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << seq << "\n";
    if (!out.flush()) return Status(StatusCode::kIoError, fmt::format("{}: cannot write", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, cursor_file_, ec);
  if (ec) return Status(StatusCode::kIoError, fmt::format("{}: cannot replace: {}", cursor_file_.string(), ec.message()));
  return Status::ok();
}

Status LifecycleForwarder::forward_now() {
  std::lock_guard pass(pass_mu_);
  if (cursor_ < 0) {
    cursor_ = 0;
    if (std::ifstream in(cursor_file_); in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor_);
      if (ec != std::errc() || end != text.data() + text.size() || cursor_ < 0) {
        cursor_ = -1;
        return Status(StatusCode::kCorruption,
                      fmt::format("{}: expected the last forwarded sequence number, found '{}'", cursor_file_.string(),
                                  text.substr(0, 40)));
      }
    }
  }
  if (!registry_) {
    // A registry that does not exist yet is created empty (as `resonance model register` would).
    auto opened = models::ModelRegistry::open(registry_file_);
    if (!opened) return opened.error();
    registry_ = std::move(*opened);
  }
  for (;;) {
    auto events = registry_->history_since(cursor_, 4096);
    if (!events) return events.error();
    if (events->empty()) return Status::ok();
    std::vector<audit::Entry> entries;
    entries.reserve(events->size());
    for (const auto& e : *events)
      entries.push_back({audit::EntryType::kModelLifecycle, e.at_ns, body_of(e, registry_file_)});
    auto appended = log_.append_batch(entries);
    if (!appended) return appended.error();
    forwarded_.fetch_add(events->size(), std::memory_order_relaxed);
    cursor_ = events->back().seq;
    if (Status s = save_cursor(cursor_); !s) return s;
    spdlog::info("audit: {} model lifecycle change(s) from {} recorded", events->size(), registry_file_.string());
  }
}

void LifecycleForwarder::start() {
  worker_.start(interval_, [this] {
    if (Status s = forward_now(); !s) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("audit: model lifecycle not forwarded (will retry): {}", s.message());
    }
  });
}

void LifecycleForwarder::stop() { worker_.stop(); }

}  // namespace resonance::app
