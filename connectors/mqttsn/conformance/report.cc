#include "connectors/mqttsn/conformance/report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace resonance::mqttsn::conformance {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kNotSupported: return "not_supported";
  }
  return "?";
}

std::size_t Report::count(Verdict v) const {
  std::size_t n = 0;
  for (const auto& c : checks) n += c.verdict == v;
  return n;
}

std::string Report::to_json() const {
  using nlohmann::json;
  json checks_json = json::array();
  for (const auto& c : checks) {
    json ex = json::array();
    for (const auto& e : c.exchanges)
      ex.push_back({{"direction", e.sent ? "sent" : "received"}, {"hex", e.hex}, {"decoded", e.decoded}});
    checks_json.push_back({{"id", c.id},
                           {"section", c.section},
                           {"title", c.title},
                           {"verdict", to_string(c.verdict)},
                           {"detail", c.detail},
                           {"exchanges", std::move(ex)}});
  }
  json j = {{"schema", "resonance.conformance.v1"},
            {"suite", suite},
            {"target", target},
            {"started", format_rfc3339(started_ns)},
            {"finished", format_rfc3339(finished_ns)},
            {"summary",
             {{"pass", count(Verdict::kPass)},
              {"fail", count(Verdict::kFail)},
              {"not_supported", count(Verdict::kNotSupported)}}},
            {"checks", std::move(checks_json)}};
  // Replace rather than throw on invalid UTF-8 echoed from a device.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string Report::to_text() const {
  std::string out = fmt::format("{} conformance against {}\n\n", suite, target);
  for (const auto& c : checks) {
    out += fmt::format("  {:<14} {:<13} {:<26} {}\n", to_string(c.verdict), c.section, c.id, c.title);
    if (c.verdict != Verdict::kPass) {
      if (!c.detail.empty()) out += fmt::format("                 {}\n", c.detail);
      for (const auto& e : c.exchanges)
        out += fmt::format("                 {} {}  [{}]\n", e.sent ? ">>" : "<<", e.hex, e.decoded);
    }
  }
  out += fmt::format("\n{} pass, {} fail, {} not supported\n", count(Verdict::kPass), count(Verdict::kFail),
                     count(Verdict::kNotSupported));
  return out;
}

}  // namespace resonance::mqttsn::conformance
