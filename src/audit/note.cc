// C2SP signed-note, tlog-checkpoint, tlog-cosignature (cosignature/v1) and tlog-proof text forms.
// Parsers are strict: one text has one meaning, so nothing signed can be read two ways.
#include <sodium.h>

#include <charconv>
#include <optional>
#include <cstring>

#include "resonance/audit/note.h"

namespace resonance::audit {

namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::size_t kMaxSignatures = 100;

Status bad(std::string what) { return Status(StatusCode::kInvalidArgument, std::move(what)); }

// Text must be UTF-8 without control characters other than newline (signed-note §Text).
Status check_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return bad("note byte " + std::to_string(i) + ": not UTF-8");
    if (len == 1 && ((c < 0x20 && c != '\n') || c == 0x7f))
      return bad("note byte " + std::to_string(i) + ": control character " + std::to_string(c));
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) return bad("note byte " + std::to_string(i) + ": not UTF-8");
    i += len;
  }
  return Status::ok();
}

Result<std::uint64_t> parse_decimal(std::string_view s, std::string_view what) {
  std::uint64_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0'))
    return error(StatusCode::kInvalidArgument, std::string(what) + " '" + std::string(s) + "' is not a canonical decimal");
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > (std::uint64_t{1} << 63) - 1)
    return error(StatusCode::kInvalidArgument, std::string(what) + " '" + std::string(s) + "' is not a decimal below 2^63");
  return v;
}

std::string cosigned_message(std::string_view text, std::uint64_t time_s) {
  return "cosignature/v1\ntime " + std::to_string(time_s) + "\n" + std::string(text);
}

std::string signature_line(const VerifierKey& key, std::string_view sig) {
  std::string bytes{static_cast<char>(key.key_id >> 24), static_cast<char>(key.key_id >> 16),
                    static_cast<char>(key.key_id >> 8), static_cast<char>(key.key_id)};
  bytes.append(sig);
  return std::string(kSigPrefix) + key.name + " " + base64_encode(as_bytes(bytes)) + "\n";
}

bool ed25519_ok(const VerifierKey& key, std::string_view message, std::string_view sig) {
  return sig.size() == 64 && crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                                         reinterpret_cast<const unsigned char*>(message.data()),
                                                         message.size(), key.public_key.data()) == 0;
}

}  // namespace

Result<Note> parse_note(std::string_view message) {
  if (message.size() > 1'000'000) return error(bad("note is over 1 MB"));
  if (auto s = check_text(message); !s) return error(s);
  if (message.empty() || message.back() != '\n') return error(bad("note does not end with a newline"));
  const auto split = message.rfind("\n\n");
  if (split == std::string_view::npos) return error(bad("note has no blank line before its signatures"));
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  if (note.text.find("\n\n") != std::string::npos || note.text.front() == '\n')
    return error(bad("note text holds a blank line"));
  std::string_view rest = message.substr(split + 2);
  std::size_t line_no = 0;
  while (!rest.empty()) {
    ++line_no;
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    const std::string where = "signature line " + std::to_string(line_no);
    if (!line.starts_with(kSigPrefix)) return error(bad(where + ": does not start with '\u2014 '"));
    const std::string_view body = line.substr(kSigPrefix.size());
    const auto space = body.find(' ');
    if (space == std::string_view::npos || space == 0 || body.find(' ', space + 1) != std::string_view::npos)
      return error(bad(where + ": expected '\u2014 <name> <base64 signature>'"));
    NoteSignature sig;
    sig.name = std::string(body.substr(0, space));
    if (sig.name.find('+') != std::string::npos) return error(bad(where + ": key name holds '+'"));
    auto bytes = base64_decode(body.substr(space + 1));
    if (!bytes) return error(bad(where + ": " + bytes.error().message()));
    if (bytes->size() < 5) return error(bad(where + ": signature shorter than key id + 1 byte"));
    const auto* b = reinterpret_cast<const std::uint8_t*>(bytes->data());
    sig.key_id = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
    sig.signature = bytes->substr(4);
    note.signatures.push_back(std::move(sig));
    if (note.signatures.size() > kMaxSignatures) return error(bad("note has more than 100 signatures"));
  }
  if (note.signatures.empty()) return error(bad("note has no signature lines"));
  return note;
}

std::string format_note(const Note& note) {
  std::string out = note.text + "\n";
  for (const auto& s : note.signatures) {
    std::string bytes{static_cast<char>(s.key_id >> 24), static_cast<char>(s.key_id >> 16),
                      static_cast<char>(s.key_id >> 8), static_cast<char>(s.key_id)};
    bytes += s.signature;
    out += std::string(kSigPrefix) + s.name + " " + base64_encode(as_bytes(bytes)) + "\n";
  }
  return out;
}

Result<std::string> sign_note(std::string_view text, const Signer& signer) {
  if (signer.verifier().type != KeyType::kEd25519)
    return error(bad("key " + signer.name() + " is a cosignature key; a log signs with type 0x01"));
  if (auto s = check_text(text); !s) return error(s);
  if (text.empty() || text.back() != '\n' || text.find("\n\n") != std::string_view::npos)
    return error(bad("note text must be non-empty lines, each ending in a newline"));
  const auto sig = signer.sign_raw(text);
  return std::string(text) + "\n" +
         signature_line(signer.verifier(), std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

Result<std::string> cosign_note(std::string_view message, const Signer& witness, std::uint64_t time_s) {
  if (witness.verifier().type != KeyType::kEd25519Cosignature)
    return error(bad("key " + witness.name() + " is not a cosignature (type 0x04) key"));
  auto note = parse_note(message);
  if (!note) return error(note.error());
  const auto sig = witness.sign_raw(cosigned_message(note->text, time_s));
  std::string payload;
  for (int shift = 56; shift >= 0; shift -= 8) payload += static_cast<char>(time_s >> shift);
  payload.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  // A new cosignature from the same witness replaces its old one.
  std::string out = note->text + "\n";
  for (const auto& s : note->signatures)
    if (!(s.name == witness.name() && s.key_id == witness.verifier().key_id))
      out += format_note(Note{"", {s}}).substr(1);
  return out + signature_line(witness.verifier(), payload);
}

Result<OpenedNote> open_note(std::string_view message, const std::vector<VerifierKey>& required) {
  auto note = parse_note(message);
  if (!note) return error(note.error());
  OpenedNote opened;
  for (const auto& key : required) {
    bool found = false;
    for (const auto& s : note->signatures) {
      if (s.name != key.name || s.key_id != key.key_id) continue;
      found = true;
      if (key.type == KeyType::kEd25519) {
        if (!ed25519_ok(key, note->text, s.signature))
          return error(StatusCode::kCorruption, "signature by " + key.name + " does not verify: the note text was altered or signed by another key");
        opened.cosignature_times.push_back(0);
      } else {
        if (s.signature.size() != 72)
          return error(StatusCode::kCorruption, "cosignature by " + key.name + " is " + std::to_string(s.signature.size()) + " bytes, not 8 + 64");
        std::uint64_t t = 0;
        for (int i = 0; i < 8; ++i) t = t << 8 | static_cast<std::uint8_t>(s.signature[static_cast<std::size_t>(i)]);
        if (t > (std::uint64_t{1} << 63) - 1)
          return error(StatusCode::kCorruption, "cosignature by " + key.name + " has a timestamp above 2^63-1");
        if (!ed25519_ok(key, cosigned_message(note->text, t), std::string_view(s.signature).substr(8)))
          return error(StatusCode::kCorruption, "cosignature by " + key.name + " (time " + std::to_string(t) +
                                                    ") does not verify: the checkpoint was altered or not witnessed by this key");
        opened.cosignature_times.push_back(t);
      }
      opened.verified_by.push_back(key.name);
      break;
    }
    if (!found) return error(StatusCode::kCorruption, "note carries no signature by required key " + key.name);
  }
  opened.note = std::move(*note);
  return opened;
}

Result<Checkpoint> parse_checkpoint_text(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return error(bad("checkpoint: last line has no newline"));
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return error(bad("checkpoint: needs origin, size and root lines, has " + std::to_string(lines.size())));
  Checkpoint c;
  if (lines[0].empty()) return error(bad("checkpoint line 1: empty origin"));
  c.origin = std::string(lines[0]);
  auto size = parse_decimal(lines[1], "checkpoint line 2: tree size");
  if (!size) return error(size.error());
  c.size = *size;
  auto root = hash_from_base64(lines[2]);
  if (!root) return error(bad("checkpoint line 3: root hash: " + root.error().message()));
  c.root = *root;
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return error(bad("checkpoint line " + std::to_string(i + 1) + ": empty extension line"));
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

std::string format_checkpoint_text(const Checkpoint& c) {
  std::string out = c.origin + "\n" + std::to_string(c.size) + "\n" + base64_encode(c.root) + "\n";
  for (const auto& e : c.extensions) out += e + "\n";
  return out;
}

Result<ProofFile> parse_proof_file(std::string_view text) {
  constexpr std::string_view kHeader = "c2sp.org/tlog-proof@v1\n";
  if (!text.starts_with(kHeader)) return error(bad("proof line 1: expected 'c2sp.org/tlog-proof@v1'"));
  text.remove_prefix(kHeader.size());
  ProofFile p;
  std::size_t line_no = 1;
  auto next_line = [&]() -> std::optional<std::string_view> {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    auto line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    return line;
  };
  auto line = next_line();
  if (line && line->starts_with("extra ")) {
    auto extra = base64_decode(line->substr(6));
    if (!extra) return error(bad("proof line 2: extra: " + extra.error().message()));
    if (extra->empty()) return error(bad("proof line 2: empty extra (omit the line instead)"));
    p.extra = std::move(*extra);
    line = next_line();
  }
  if (!line || !line->starts_with("index "))
    return error(bad("proof line " + std::to_string(line_no) + ": expected 'index <n>'"));
  auto index = parse_decimal(line->substr(6), "proof index");
  if (!index) return error(index.error());
  p.index = *index;
  for (;;) {
    line = next_line();
    if (!line) return error(bad("proof ends before the blank line and checkpoint"));
    if (line->empty()) break;
    auto h = hash_from_base64(*line);
    if (!h) return error(bad("proof line " + std::to_string(line_no) + ": " + h.error().message()));
    if (p.proof.size() == 63) return error(bad("proof has more than 63 hashes"));
    p.proof.push_back(*h);
  }
  p.checkpoint = std::string(text);
  if (auto n = parse_note(p.checkpoint); !n)
    return error(bad("proof checkpoint (after line " + std::to_string(line_no) + "): " + n.error().message()));
  return p;
}

std::string format_proof_file(const ProofFile& p) {
  std::string out = "c2sp.org/tlog-proof@v1\n";
  if (!p.extra.empty()) out += "extra " + base64_encode(as_bytes(p.extra)) + "\n";
  out += "index " + std::to_string(p.index) + "\n";
  for (const auto& h : p.proof) out += base64_encode(h) + "\n";
  return out + "\n" + p.checkpoint;
}

}  // namespace resonance::audit
