// Fuzzes the signed-note, checkpoint and key parsers with whole files as an auditor receives them.
// Beyond "no crash": whatever parses must re-format to exactly its input (one text, one meaning),
// and open_note must never accept a note for a key that did not sign it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "resonance/audit/note.h"

using namespace resonance::audit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto note = parse_note(input)) {
    if (format_note(*note) != input) std::abort();
    if (auto cp = parse_checkpoint_text(note->text); cp && format_checkpoint_text(*cp) != note->text) std::abort();
    // A fixed key nobody used for the corpus: opening must fail for it.
    static const Signer key = *Signer::parse("PRIVATE+KEY+fuzz.example+15b79ca9+AUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJ");
    VerifierKey vk = key.verifier();
    for (const auto& s : note->signatures)
      if (s.name == vk.name && s.key_id == vk.key_id) return 0;
    if (open_note(input, {vk})) std::abort();
  }
  if (auto cp = parse_checkpoint_text(input); cp && format_checkpoint_text(*cp) != input) std::abort();
  if (auto vk = parse_verifier_key(input); vk && vk->to_string() != input) std::abort();
  (void)Signer::parse(input);
  return 0;
}
