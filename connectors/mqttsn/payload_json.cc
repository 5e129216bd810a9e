#include "connectors/mqttsn/payload_json.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace resonance::mqttsn {
namespace {

constexpr int kMaxDepth = 8;

Status fail(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

struct JMember;

struct JValue {
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::size_t offset = 0;
  bool boolean = false;
  std::string text;  // number text as written, or the decoded string
  std::vector<JValue> items;
  std::vector<JMember> members;  // a vector of an incomplete type is fine since C++17; a pair is not
};

struct JMember {
  std::string first;  // key
  JValue second;
};

std::string_view kind_name(JValue::Kind k) {
  switch (k) {
    case JValue::Kind::kNull: return "null";
    case JValue::Kind::kBool: return "a boolean";
    case JValue::Kind::kNumber: return "a number";
    case JValue::Kind::kString: return "a string";
    case JValue::Kind::kArray: return "an array";
    case JValue::Kind::kObject: return "an object";
  }
  return "?";
}

// RFC 8259 syntax, strictly: no trailing commas, no comments, no leading zeros, no control
// characters in strings, duplicate keys refused (they are ambiguous).
class Parser {
 public:
  explicit Parser(std::span<const std::uint8_t> in) : in_(in) {}

  Result<JValue> parse_document() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (at_ != in_.size()) return std::unexpected(syntax("end of the document"));
    return v;
  }

 private:
  Status syntax(std::string_view expected) const {
    if (at_ >= in_.size())
      return fail(fmt::format("payload (JSON): expected {} at offset {}, found the end", expected, at_));
    const auto c = in_[at_];
    if (c >= 0x20 && c < 0x7f)
      return fail(fmt::format("payload (JSON): expected {} at offset {}, found '{}'", expected, at_,
                              static_cast<char>(c)));
    return fail(fmt::format("payload (JSON): expected {} at offset {}, found byte 0x{:02x}", expected, at_, c));
  }

  void skip_ws() {
    while (at_ < in_.size() && (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r'))
      ++at_;
  }

  bool literal(std::string_view word) {
    if (in_.size() - at_ < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (in_[at_ + i] != static_cast<std::uint8_t>(word[i])) return false;
    at_ += word.size();
    return true;
  }

  Result<JValue> value(int depth) {
    skip_ws();
    if (depth > kMaxDepth)
      return std::unexpected(fail(fmt::format("payload (JSON): nesting deeper than {} at offset {}", kMaxDepth, at_)));
    JValue v;
    v.offset = at_;
    if (at_ >= in_.size()) return std::unexpected(syntax("a value"));
    const auto c = in_[at_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      v.kind = JValue::Kind::kString;
      auto s = string();
      if (!s) return std::unexpected(s.error());
      v.text = std::move(*s);
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) { v.kind = JValue::Kind::kBool; v.boolean = true; return v; }
    if (literal("false")) { v.kind = JValue::Kind::kBool; return v; }
    if (literal("null")) return v;
    return std::unexpected(syntax("a value"));
  }

  Result<JValue> number() {
    JValue v;
    v.kind = JValue::Kind::kNumber;
    v.offset = at_;
    const std::size_t start = at_;
    auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
      return at_ - from;
    };
    if (in_[at_] == '-') ++at_;
    if (at_ < in_.size() && in_[at_] == '0') {
      ++at_;
    } else if (digits() == 0) {
      return std::unexpected(syntax("a digit"));
    }
    if (at_ < in_.size() && in_[at_] == '.') {
      ++at_;
      if (digits() == 0) return std::unexpected(syntax("a digit after '.'"));
    }
    if (at_ < in_.size() && (in_[at_] == 'e' || in_[at_] == 'E')) {
      ++at_;
      if (at_ < in_.size() && (in_[at_] == '+' || in_[at_] == '-')) ++at_;
      if (digits() == 0) return std::unexpected(syntax("a digit in the exponent"));
    }
    v.text.assign(reinterpret_cast<const char*>(in_.data()) + start, at_ - start);
    return v;
  }

  Result<unsigned> hex4() {
    unsigned u = 0;
    for (int i = 0; i < 4; ++i, ++at_) {
      if (at_ >= in_.size()) return std::unexpected(syntax("a hex digit"));
      const auto c = in_[at_];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::unexpected(syntax("a hex digit"));
      u = u * 16 + static_cast<unsigned>(d);
    }
    return u;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  Result<std::string> string() {
    ++at_;  // opening quote
    std::string out;
    for (;;) {
      if (at_ >= in_.size()) return std::unexpected(syntax("'\"' closing the string"));
      const auto c = in_[at_];
      if (c == '"') {
        ++at_;
        return out;
      }
      if (c < 0x20) return std::unexpected(syntax("a string character (control bytes must be escaped)"));
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++at_;
        continue;
      }
      ++at_;
      if (at_ >= in_.size()) return std::unexpected(syntax("an escape"));
      const auto e = in_[at_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          auto hi = hex4();
          if (!hi) return std::unexpected(hi.error());
          unsigned cp = *hi;
          if (cp >= 0xdc00 && cp <= 0xdfff) {
            at_ -= 4;
            return std::unexpected(syntax("a high surrogate before a low one"));
          }
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (!literal("\\u")) return std::unexpected(syntax("'\\u' of a low surrogate"));
            auto lo = hex4();
            if (!lo) return std::unexpected(lo.error());
            if (*lo < 0xdc00 || *lo > 0xdfff) {
              at_ -= 4;
              return std::unexpected(syntax("a low surrogate"));
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (*lo - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          --at_;
          return std::unexpected(syntax("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"));
      }
    }
  }

  Result<JValue> array(int depth) {
    JValue v;
    v.kind = JValue::Kind::kArray;
    v.offset = at_++;
    skip_ws();
    if (at_ < in_.size() && in_[at_] == ']') {
      ++at_;
      return v;
    }
    for (;;) {
      auto item = value(depth + 1);
      if (!item) return item;
      v.items.push_back(std::move(*item));
      skip_ws();
      if (at_ < in_.size() && in_[at_] == ',') { ++at_; continue; }
      if (at_ < in_.size() && in_[at_] == ']') { ++at_; return v; }
      return std::unexpected(syntax("',' or ']'"));
    }
  }

  Result<JValue> object(int depth) {
    JValue v;
    v.kind = JValue::Kind::kObject;
    v.offset = at_++;
    skip_ws();
    if (at_ < in_.size() && in_[at_] == '}') {
      ++at_;
      return v;
    }
    for (;;) {
      skip_ws();
      if (at_ >= in_.size() || in_[at_] != '"') return std::unexpected(syntax("a '\"' starting a key"));
      const std::size_t key_at = at_;
      auto key = string();
      if (!key) return std::unexpected(key.error());
      for (const auto& m : v.members)
        if (m.first == *key)
          return std::unexpected(
              fail(fmt::format("payload (JSON): key \"{}\" at offset {} repeats an earlier key", *key, key_at)));
      skip_ws();
      if (at_ >= in_.size() || in_[at_] != ':') return std::unexpected(syntax("':'"));
      ++at_;
      auto item = value(depth + 1);
      if (!item) return item;
      v.members.push_back(JMember{std::move(*key), std::move(*item)});
      skip_ws();
      if (at_ < in_.size() && in_[at_] == ',') { ++at_; continue; }
      if (at_ < in_.size() && in_[at_] == '}') { ++at_; return v; }
      return std::unexpected(syntax("',' or '}'"));
    }
  }

  std::span<const std::uint8_t> in_;
  std::size_t at_ = 0;
};

// RFC 6901: '~' -> "~0", '/' -> "~1".
std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

Status at(const JValue& v, std::string_view pointer, std::string_view what) {
  // The root's JSON pointer is "", which reads badly in a message.
  return fail(fmt::format("payload (JSON) at {} (offset {}): {}", pointer.empty() ? "the top level" : pointer,
                          v.offset, what));
}

Status wrong_kind(const JValue& v, std::string_view pointer, std::string_view expected) {
  return at(v, pointer, fmt::format("expected {}, found {}", expected, kind_name(v.kind)));
}

bool is_integer_text(std::string_view t) { return t.find_first_of(".eE") == std::string_view::npos; }

Result<TimestampNs> read_ts(const JValue& v, const std::string& p) {
  if (v.kind == JValue::Kind::kNumber) {
    TimestampNs ts = 0;
    const auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), ts);
    if (!is_integer_text(v.text) || ec != std::errc{} || ptr != v.text.data() + v.text.size())
      return std::unexpected(at(v, p, fmt::format("expected an integer of ns since 1970 within int64, found {}", v.text)));
    return ts;
  }
  if (v.kind == JValue::Kind::kString) {
    auto ts = parse_timestamp(v.text);
    if (!ts)
      return std::unexpected(at(v, p, fmt::format("expected an RFC 3339 time like \"2026-11-21T10:00:00Z\", "
                                                  "found \"{}\"",
                                                  v.text.substr(0, 64))));
    return *ts;
  }
  return std::unexpected(wrong_kind(v, p, "an RFC 3339 string or an integer of ns"));
}

Result<double> read_value(const JValue& v, const std::string& p) {
  if (v.kind == JValue::Kind::kBool) return v.boolean ? 1.0 : 0.0;
  if (v.kind != JValue::Kind::kNumber) return std::unexpected(wrong_kind(v, p, "a number or a boolean"));
  double d = 0;
  const auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
  if (ec != std::errc{} || ptr != v.text.data() + v.text.size())
    return std::unexpected(at(v, p, fmt::format("number {} is out of the binary64 range", v.text)));
  return d;
}

Result<Quality> read_quality(const JValue& v, const std::string& p) {
  if (v.kind == JValue::Kind::kString) {
    if (v.text == "good") return Quality{Quality::kGood};
    if (v.text == "uncertain") return Quality{Quality::kUncertain};
    if (v.text == "bad") return Quality{Quality::kBad};
    return std::unexpected(at(v, p, fmt::format("expected \"good\", \"uncertain\" or \"bad\", found \"{}\"",
                                                v.text.substr(0, 32))));
  }
  if (v.kind != JValue::Kind::kNumber) return std::unexpected(wrong_kind(v, p, "an OPC UA StatusCode or a name"));
  std::uint32_t code = 0;
  const auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), code);
  if (!is_integer_text(v.text) || ec != std::errc{} || ptr != v.text.data() + v.text.size())
    return std::unexpected(at(v, p, fmt::format("expected an integer 0..4294967295, found {}", v.text)));
  return Quality{code};
}

Result<PayloadSample> read_sample(const JValue& v, const std::string& p) {
  if (v.kind != JValue::Kind::kObject) return std::unexpected(wrong_kind(v, p, "a sample object {\"ts\",\"v\",\"q\"}"));
  PayloadSample s;
  bool have_ts = false, have_v = false;
  for (const auto& [key, item] : v.members) {
    const std::string ip = p + "/" + pointer_token(key);
    if (key == "ts") {
      auto ts = read_ts(item, ip);
      if (!ts) return std::unexpected(ts.error());
      s.ts_ns = *ts;
      have_ts = true;
    } else if (key == "v") {
      auto d = read_value(item, ip);
      if (!d) return std::unexpected(d.error());
      s.value = *d;
      have_v = true;
    } else if (key == "q") {
      auto q = read_quality(item, ip);
      if (!q) return std::unexpected(q.error());
      s.quality = *q;
    } else {
      return std::unexpected(at(item, ip, "unknown key; a sample has \"ts\", \"v\" and optionally \"q\""));
    }
  }
  if (!have_ts) return std::unexpected(at(v, p, "missing \"ts\""));
  if (!have_v) return std::unexpected(at(v, p, "missing \"v\""));
  return s;
}

// One sample object or an array of 1.. of them.
Status read_samples(const JValue& v, const std::string& p, bool allow_single, std::vector<PayloadSample>& out,
                    std::size_t& total) {
  if (allow_single && v.kind == JValue::Kind::kObject) {
    auto s = read_sample(v, p);
    if (!s) return s.error();
    out.push_back(*s);
    return ++total > kMaxPayloadSamples ? at(v, p, "too many samples") : Status::ok();
  }
  if (v.kind != JValue::Kind::kArray)
    return wrong_kind(v, p, allow_single ? "a sample object or an array of them" : "an array of sample objects");
  if (v.items.empty()) return at(v, p, "empty array; at least one sample");
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    auto s = read_sample(v.items[i], fmt::format("{}/{}", p, i));
    if (!s) return s.error();
    out.push_back(*s);
    if (++total > kMaxPayloadSamples)
      return at(v.items[i], fmt::format("{}/{}", p, i), fmt::format("more than {} samples", kMaxPayloadSamples));
  }
  return Status::ok();
}

bool valid_suffix(std::string_view s) {
  if (s.empty() || s.size() > kMaxSignalSuffixBytes) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-' || c == '/'))
      return false;
  return true;
}

}  // namespace

Result<DecodedPayload> decode_json_payload(std::span<const std::uint8_t> bytes) {
  auto doc = Parser(bytes).parse_document();
  if (!doc) return std::unexpected(doc.error());
  if (doc->kind != JValue::Kind::kObject) return std::unexpected(wrong_kind(*doc, "", "an object"));
  DecodedPayload out;
  out.format = PayloadFormat::kJson;
  std::size_t total = 0;
  const JValue* samples = nullptr;
  const JValue* signals = nullptr;
  for (const auto& [key, item] : doc->members) {
    if (key == "samples") samples = &item;
    if (key == "signals") signals = &item;
  }
  if (samples || signals) {
    if (doc->members.size() != 1)
      return std::unexpected(at(*doc, "", "a batch object has exactly one key, \"samples\" or \"signals\""));
    if (samples) {
      if (Status s = read_samples(*samples, "/samples", false, out.samples, total); !s) return std::unexpected(s);
      return out;
    }
    if (signals->kind != JValue::Kind::kObject)
      return std::unexpected(wrong_kind(*signals, "/signals", "an object of signal suffix -> samples"));
    if (signals->members.empty() || signals->members.size() > 255)
      return std::unexpected(at(*signals, "/signals", "expected 1..255 signals"));
    for (const auto& [suffix, item] : signals->members) {
      const std::string p = "/signals/" + pointer_token(suffix);
      if (!valid_suffix(suffix))
        return std::unexpected(at(item, p, fmt::format("signal suffix must be 1..{} bytes of [A-Za-z0-9_.-/]",
                                                       kMaxSignalSuffixBytes)));
      SignalSamples sig{suffix, {}};
      if (Status s = read_samples(item, p, true, sig.samples, total); !s) return std::unexpected(s);
      out.signals.push_back(std::move(sig));
    }
    return out;
  }
  auto s = read_sample(*doc, "");
  if (!s) return std::unexpected(s.error());
  out.samples.push_back(*s);
  return out;
}

}  // namespace resonance::mqttsn
