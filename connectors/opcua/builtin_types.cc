#include "connectors/opcua/builtin_types.h"

#include <charconv>
#include <cstdio>
#include <string>

namespace resonance::opcua {
namespace {

std::string guid_text(const Guid& g) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g.data1,
                g.data2, g.data3, g.data4[0], g.data4[1], g.data4[2], g.data4[3], g.data4[4],
                g.data4[5], g.data4[6], g.data4[7]);
  return buf;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
bool parse_guid(std::string_view t, Guid& g) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return false;
  std::string hex;
  for (char c : t)
    if (c != '-') hex.push_back(c);
  std::uint8_t b[16];
  for (int i = 0; i < 16; ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    b[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  g.data1 = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  g.data2 = static_cast<std::uint16_t>((b[4] << 8) | b[5]);
  g.data3 = static_cast<std::uint16_t>((b[6] << 8) | b[7]);
  for (int i = 0; i < 8; ++i) g.data4[i] = b[8 + i];
  return true;
}

}  // namespace

std::string to_string(const NodeId& id) {
  std::string out;
  if (id.ns != 0) out = "ns=" + std::to_string(id.ns) + ";";
  if (const auto* n = std::get_if<std::uint32_t>(&id.id)) return out + "i=" + std::to_string(*n);
  if (const auto* s = std::get_if<std::string>(&id.id)) return out + "s=" + *s;
  if (const auto* g = std::get_if<Guid>(&id.id)) return out + "g=" + guid_text(*g);
  static constexpr char kHex[] = "0123456789abcdef";
  out += "b=";
  for (unsigned char c : std::get<ByteString>(id.id).bytes.value_or(std::string())) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

Result<NodeId> parse_node_id(std::string_view text) {
  const std::string_view original = text;
  NodeId out;
  if (text.starts_with("ns=")) {
    const auto semi = text.find(';');
    if (semi == std::string_view::npos)
      return error(resonance::StatusCode::kInvalidArgument, "NodeId \"" + std::string(original) + "\": no ';' after ns=");
    unsigned ns = 0;
    auto [p, ec] = std::from_chars(text.data() + 3, text.data() + semi, ns);
    if (ec != std::errc() || p != text.data() + semi || ns > 0xFFFF)
      return error(resonance::StatusCode::kInvalidArgument,
                   "NodeId \"" + std::string(original) + "\": namespace index is not 0..65535");
    out.ns = static_cast<std::uint16_t>(ns);
    text.remove_prefix(semi + 1);
  }
  if (text.size() < 2 || text[1] != '=')
    return error(resonance::StatusCode::kInvalidArgument,
                 "NodeId \"" + std::string(original) + "\": expected i=, s= or g= after the namespace");
  const std::string_view body = text.substr(2);
  switch (text[0]) {
    case 'i': {
      std::uint32_t v = 0;
      auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
      if (ec != std::errc() || p != body.data() + body.size())
        return error(resonance::StatusCode::kInvalidArgument,
                     "NodeId \"" + std::string(original) + "\": i= needs a UInt32");
      out.id = v;
      return out;
    }
    case 's':
      out.id = std::string(body);
      return out;
    case 'g': {
      Guid g;
      if (!parse_guid(body, g))
        return error(resonance::StatusCode::kInvalidArgument,
                     "NodeId \"" + std::string(original) + "\": g= needs a GUID like 09087e75-8e5e-499b-954f-f2a9603db28a");
      out.id = g;
      return out;
    }
    default:
      return error(resonance::StatusCode::kInvalidArgument,
                   "NodeId \"" + std::string(original) + "\": identifier type '" +
                       std::string(1, text[0]) + "' is not i, s or g");
  }
}

std::optional<double> Variant::as_double() const {
  if (is_array || values.size() != 1) return std::nullopt;
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<double>(x);
        } else if constexpr (std::is_same_v<T, StatusCode>) {
          return static_cast<double>(x.code);
        } else {
          return std::nullopt;
        }
      },
      values.front());
}

}  // namespace resonance::opcua
