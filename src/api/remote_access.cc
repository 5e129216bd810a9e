#include "api/remote_access.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "api/responses.h"

namespace resonance::api {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<ClientNetwork> parse_network(std::string_view item) {
  const auto slash = item.find('/');
  const std::string address(item.substr(0, slash));
  ClientNetwork net;
  int max_bits = 128;
  int offset_bits = 0;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    std::memcpy(net.base.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
    std::memcpy(net.base.bytes.data() + 12, &v4, 4);
    max_bits = 32;
    offset_bits = 96;
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(net.base.bytes.data(), &v6, 16);
  } else {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("'{}': expected an IPv4 or IPv6 address, optionally with /prefix", item));
  }
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view text = item.substr(slash + 1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (ec != std::errc() || end != text.data() + text.size() || bits < 0 || bits > max_bits)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("'{}': expected a prefix length from 0 to {}, found '{}'", item, max_bits, text));
  }
  net.prefix_bits = offset_bits + bits;
  // Host bits set ("10.1.2.3/8") would read as a typo for another network: refuse it.
  ClientAddress masked = net.base;
  for (int i = net.prefix_bits; i < 128; ++i) masked.bytes[i / 8] &= static_cast<std::uint8_t>(~(0x80 >> (i % 8)));
  if (masked.bytes != net.base.bytes)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("'{}': host bits are set beyond the /{} prefix", item, bits));
  return net;
}

// Asked on every request: parsed once, returned by reference.
const std::vector<ClientNetwork>& loopback_networks() {
  static const std::vector<ClientNetwork> nets = *parse_client_networks("127.0.0.0/8, ::1/128");
  return nets;
}

// The one place a remote read asks the gate: no destination or no gate is a denial, never a pass.
governance::Decision ask_gate(const RemoteAccessOptions& remote, std::string_view series_path) {
  if (remote.gate && !remote.destination.empty()) return remote.gate(series_path, remote.destination, remote.purpose);
  governance::Decision decision;
  decision.rule = remote.gate ? "deny.remote.no_destination" : "deny.gate.absent";
  decision.reason = remote.gate ? "this node declares no destination for remote clients ([api] remote_destination)"
                                : "no egress gate is attached to this API; remote clients read no data";
  return decision;
}

Response denied(std::string_view rule, std::string_view reason) {
  return error_response(403, "egress_denied", fmt::format("{}: {}", rule, reason));
}

}  // namespace

ClientAddress ClientAddress::loopback_v4() {
  ClientAddress a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  a.bytes[12] = 127;
  a.bytes[15] = 1;
  return a;
}

bool ClientNetwork::contains(const ClientAddress& a) const {
  const int whole = prefix_bits / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + whole, a.bytes.begin())) return false;
  const int rest = prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (base.bytes[whole] & mask) == (a.bytes[whole] & mask);
}

Result<std::vector<ClientNetwork>> parse_client_networks(std::string_view comma_list) {
  std::vector<ClientNetwork> nets;
  std::size_t pos = 0;
  for (std::size_t index = 1; pos <= comma_list.size(); ++index) {
    const std::size_t comma = comma_list.find(',', pos);
    const std::string_view item = trim(comma_list.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    if (!item.empty()) {
      auto net = parse_network(item);
      if (!net) return error(StatusCode::kInvalidArgument, fmt::format("entry {} {}", index, net.error().message()));
      nets.push_back(*net);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return nets;
}

bool is_local_client(const RemoteAccessOptions& options, const ClientAddress& client) {
  const auto& nets = options.local_clients.empty() ? loopback_networks() : options.local_clients;
  return std::ranges::any_of(nets, [&](const ClientNetwork& n) { return n.contains(client); });
}

std::optional<Response> check_remote_read(const RouteContext& ctx, std::string_view path,
                                          const ParsedTarget& target, std::string_view latest_id) {
  const RemoteAccessOptions& remote = ctx.options.remote;
  if (path == "/api/v1/quarantine")
    return denied("deny.remote.no_subject",
                  "the quarantine holds raw device payloads that carry no series labels; it is served to local "
                  "clients only");
  if (path == "/api/v1/export") {
    // The export asks the gate itself; a remote client may only name the destination it is.
    const auto destination = target.param("destination");
    if (destination && *destination != remote.destination)
      return denied("deny.remote.destination_mismatch",
                    fmt::format("a remote client is destination '{}' and cannot export to '{}'",
                                remote.destination.empty() ? "(none configured)" : remote.destination,
                                *destination));
    return std::nullopt;
  }

  // Which series the request reads; a route that reads none passes.
  std::string_view list;
  if (!latest_id.empty()) {
    list = latest_id;
  } else if (path == "/api/v1/query" || path == "/api/v1/aggregate" || path == "/api/v1/frame" ||
             path == "/api/v1/provenance") {
    const auto series = target.param("series");
    if (!series) return std::nullopt;  // the route answers 400 for the missing parameter
    list = *series;
  } else {
    return std::nullopt;
  }
  // Without a gate or a destination every read is refused: say so before any lookup, so a remote
  // client cannot tell ids that exist from ids that do not by the refusal it gets.
  if (!remote.gate || remote.destination.empty()) {
    const governance::Decision decision = ask_gate(remote, "");
    return denied(decision.rule, decision.reason);
  }
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = list.find(',', pos);
    const std::string_view item = list.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    // An id is judged by the path it stands for: labels and consents are per path.
    std::string series_path(item);
    SeriesId id = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (ec == std::errc() && end == item.data() + item.size()) {
      const auto info = ctx.catalog.find(id);
      if (!info)
        return denied("deny.remote.unknown_series",
                      fmt::format("series {}: no such series, so no labels to decide on", id));
      series_path = info->path;
    }
    const governance::Decision decision = ask_gate(remote, series_path);
    if (!decision.allowed()) return denied(decision.rule, decision.reason);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return std::nullopt;
}

bool remote_may_read(const RouteContext& ctx, std::string_view series_path) {
  return ask_gate(ctx.options.remote, series_path).allowed();
}

}  // namespace resonance::api
