#pragma once
// C2SP signed notes (signed-note), checkpoints (tlog-checkpoint) and Ed25519 cosignatures
// (tlog-cosignature, cosignature/v1). Keys are Ed25519 (libsodium); the key files use the
// "PRIVATE+KEY+name+keyid+base64(type||seed)" form of Go's sumdb/note so other tools read them.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/audit/hash.h"
#include "resonance/core/status.h"

namespace resonance::audit {

enum class KeyType : std::uint8_t {
  kEd25519 = 0x01,             // a log's own signature
  kEd25519Cosignature = 0x04,  // a witness's timestamped cosignature/v1
};

// A public key as a verifier uses it: vkey text "name+hex(keyid)+base64(type||key)".
struct VerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  KeyType type = KeyType::kEd25519;
  std::array<std::uint8_t, 32> public_key{};
  std::string to_string() const;
};
Result<VerifierKey> parse_verifier_key(std::string_view vkey);

// A private signing key. The seed never appears in messages or logs.
class Signer {
 public:
  static Result<Signer> generate(std::string name, KeyType type);
  static Result<Signer> parse(std::string_view skey);  // "PRIVATE+KEY+…"
  static Result<Signer> load(const std::string& path);
  const std::string& name() const { return key_.name; }
  const VerifierKey& verifier() const { return key_; }
  std::string private_key_text() const;
  // The raw 64-byte Ed25519 signature of `message`.
  std::array<std::uint8_t, 64> sign_raw(std::string_view message) const;

 private:
  VerifierKey key_;
  std::array<std::uint8_t, 64> secret_{};  // libsodium's seed || public key
};
// Writes `<prefix>.key` (mode 0600) and `<prefix>.vkey`.
Status save_key_pair(const Signer& signer, const std::string& prefix);

std::uint32_t key_id(std::string_view name, KeyType type, std::span<const std::uint8_t> public_key);

struct NoteSignature {
  std::string name;
  std::uint32_t key_id = 0;
  std::string signature;  // bytes after the key id
};
struct Note {
  std::string text;  // ends with '\n', no blank line
  std::vector<NoteSignature> signatures;
};
// Splits and checks the syntax only; signatures are checked by open_note.
Result<Note> parse_note(std::string_view message);
std::string format_note(const Note& note);

// Signs `text` as a new note (log signature, type 0x01).
Result<std::string> sign_note(std::string_view text, const Signer& signer);
// Adds a cosignature/v1 line from a witness (type 0x04) at `time_s` to a signed note.
Result<std::string> cosign_note(std::string_view message, const Signer& witness, std::uint64_t time_s);

// Checks every signature made by a key in `keys`; lines from other keys are ignored (C2SP: MUST
// ignore unknown keys). Fails with kCorruption naming the key when a known key's signature is bad,
// and when a key in `required` signed nothing.
struct OpenedNote {
  Note note;
  std::vector<std::string> verified_by;          // key names
  std::vector<std::uint64_t> cosignature_times;  // parallel to verified_by; 0 for log signatures
};
Result<OpenedNote> open_note(std::string_view message, const std::vector<VerifierKey>& required);

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
};
Result<Checkpoint> parse_checkpoint_text(std::string_view text);
std::string format_checkpoint_text(const Checkpoint& checkpoint);

// C2SP tlog-proof@v1: an index, its inclusion proof and the (co)signed checkpoint.
struct ProofFile {
  std::string extra;  // decoded bytes, may be empty
  std::uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed note, verbatim
};
Result<ProofFile> parse_proof_file(std::string_view text);
std::string format_proof_file(const ProofFile& proof);

}  // namespace resonance::audit
