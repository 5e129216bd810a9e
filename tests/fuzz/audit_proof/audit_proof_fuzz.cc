// Fuzzes what `resonance audit` reads besides notes: C2SP tlog-proof files and entry bundles.
// Parsed proofs must re-format to their input; every bundle entry must decode or be rejected with
// an error; proof verification over fuzzed hashes must never crash and never accept a proof whose
// first hash was flipped.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "resonance/audit/entry.h"
#include "resonance/audit/merkle.h"
#include "resonance/audit/note.h"
#include "resonance/audit/tiles.h"

using namespace resonance::audit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto proof = parse_proof_file(input)) {
    if (format_proof_file(*proof) != input) std::abort();
    auto note = parse_note(proof->checkpoint);
    if (!note) std::abort();  // parse_proof_file promised a note
    if (auto cp = parse_checkpoint_text(note->text); cp && proof->index < cp->size) {
      const Hash leaf{};
      if (verify_inclusion(leaf, proof->index, cp->size, proof->proof, cp->root).is_ok() && !proof->proof.empty()) {
        auto flipped = proof->proof;
        flipped[0][0] ^= 1;
        if (verify_inclusion(leaf, proof->index, cp->size, flipped, cp->root).is_ok()) std::abort();
      }
    }
  }
  if (auto entries = parse_bundle(input)) {
    std::string again;
    for (const auto& e : *entries) {
      append_to_bundle(e, again);
      (void)decode_entry(as_bytes(e));
    }
    if (again != input) std::abort();
  }
  return 0;
}
