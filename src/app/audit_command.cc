// `resonance audit keygen|verify|prove|consistency|cosign` (issue 7; docs/audit.md). Everything
// here works offline on a copied log directory: nothing of the node needs to run.
// Exit codes: 0 verified, 1 verification failed, 2 usage or input error.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <optional>

#include "commands.h"
#include "resonance/audit/note.h"
#include "resonance/audit/tiles.h"
#include "resonance/audit/verify.h"

namespace resonance::app {

namespace {

namespace audit = resonance::audit;

void fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  set_exit_code(s.code() == StatusCode::kCorruption ? 1 : 2);
}

// A verifier key given inline ("name+id+key") or as @FILE.
Result<audit::VerifierKey> load_vkey(const std::string& arg) {
  std::string text = arg;
  if (arg.starts_with("@")) {
    auto data = audit::read_file(arg.substr(1));
    if (!data) return error(data.error());
    text = *data;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  }
  auto key = audit::parse_verifier_key(text);
  if (!key) return error(key.error().code(), "--key " + arg + ": " + key.error().message());
  return key;
}

struct Args {
  std::string dir, key, out, name, older, newer, tiles;
  std::vector<std::string> witnesses;
  std::uint64_t entry = 0;
  bool witness_key = false;
};

}  // namespace

void register_audit(CLI::App& app) {
  static Args a;
  auto* cmd = app.add_subcommand("audit", "Verify the transparency log offline: signatures, entries, proofs");
  cmd->require_subcommand(1);

  auto* keygen = cmd->add_subcommand("keygen", "Generate an Ed25519 key pair: PREFIX.key (private, 0600) and PREFIX.vkey");
  keygen->add_option("--name", a.name, "Key name: the log's origin (e.g. vendor.example/edge/site/node) or the witness name")
      ->required();
  keygen->add_option("--out", a.out, "Path prefix of the two files")->required();
  keygen->add_flag("--witness", a.witness_key, "A witness key (cosignature/v1, type 0x04) instead of a log key");
  keygen->callback([] {
    auto signer = audit::Signer::generate(a.name, a.witness_key ? audit::KeyType::kEd25519Cosignature : audit::KeyType::kEd25519);
    if (!signer) return fail(signer.error());
    if (auto s = audit::save_key_pair(*signer, a.out); !s) return fail(s);
    std::cout << signer->verifier().to_string() << "\n";
  });

  auto* verify = cmd->add_subcommand("verify", "Recompute the whole tree from the entry bundles and tiles in DIR and check the signed checkpoint");
  verify->add_option("DIR", a.dir, "Log directory (a copy is fine)")->required();
  verify->add_option("--key", a.key, "The log's verifier key (name+id+base64) or @FILE")->required();
  verify->add_option("--witness", a.witnesses, "A witness verifier key or @FILE whose cosignature is required (repeatable)");
  verify->callback([] {
    auto key = load_vkey(a.key);
    if (!key) return fail(key.error());
    std::vector<audit::VerifierKey> witnesses;
    for (const auto& w : a.witnesses) {
      auto k = load_vkey(w);
      if (!k) return fail(k.error());
      witnesses.push_back(*k);
    }
    auto result = audit::verify_log_dir(a.dir, *key, witnesses);
    if (!result) return fail(result.error());
    std::cout << fmt::format("{}: ok — {} entries, {} tiles, root {} signed by {}\n", a.dir, result->entries_checked,
                             result->tiles_checked, audit::base64_encode(result->checkpoint.root),
                             fmt::join(result->signed_by, ", "));
  });

  auto* prove = cmd->add_subcommand("prove", "Print the C2SP tlog-proof of one entry (inclusion proof + signed checkpoint)");
  prove->add_option("--entry", a.entry, "Entry index")->required();
  prove->add_option("DIR", a.dir, "Log directory")->required();
  prove->add_option("--key", a.key, "The log's verifier key or @FILE; when given, the checkpoint signature is checked first");
  prove->callback([] {
    std::optional<audit::VerifierKey> key;
    if (!a.key.empty()) {
      auto k = load_vkey(a.key);
      if (!k) return fail(k.error());
      key = *k;
    }
    auto proof = audit::prove_entry(a.dir, a.entry, key ? &*key : nullptr);
    if (!proof) return fail(proof.error());
    std::cout << *proof;
  });

  auto* consistency = cmd->add_subcommand(
      "consistency", "Check that NEW extends OLD (no fork, no rollback) with a consistency proof from the tiles");
  consistency->add_option("OLD", a.older, "Older checkpoint: a file or a log directory")->required();
  consistency->add_option("NEW", a.newer, "Newer checkpoint: a file or a log directory")->required();
  consistency->add_option("--tiles", a.tiles, "Log directory holding tiles for NEW (default: NEW when it is a directory)");
  consistency->add_option("--key", a.key, "The log's verifier key or @FILE")->required();
  consistency->callback([] {
    auto key = load_vkey(a.key);
    if (!key) return fail(key.error());
    std::string tiles = a.tiles;
    if (tiles.empty()) {
      if (!std::filesystem::is_directory(a.newer))
        return fail(Status(StatusCode::kInvalidArgument, "NEW is a file: give --tiles DIR with the log's tiles"));
      tiles = a.newer;
    }
    auto r = audit::check_consistency(a.older, a.newer, tiles, &*key);
    if (!r) return fail(r.error());
    std::cout << fmt::format("consistent: size {} -> {} ({} proof hashes)\n", r->older.size, r->newer.size, r->proof.size());
    for (const auto& h : r->proof) std::cout << audit::base64_encode(h) << "\n";
  });

  auto* cosign = cmd->add_subcommand("cosign", "Witness: check DIR's checkpoint and add a cosignature/v1 line with a witness key");
  cosign->add_option("DIR", a.dir, "Log directory")->required();
  cosign->add_option("--witness-key", a.out, "Witness private key file (from keygen --witness)")->required();
  cosign->add_option("--key", a.key, "The log's verifier key or @FILE")->required();
  cosign->callback([] {
    auto key = load_vkey(a.key);
    if (!key) return fail(key.error());
    auto witness = audit::Signer::load(a.out);
    if (!witness) return fail(witness.error());
    // A witness vouches for the whole log it saw, so check it all before signing.
    // Read the checkpoint once, then verify the log against exactly that text: the node rewrites
    // the file every few seconds, and a witness must sign only what it checked.
    auto text = audit::read_file(std::filesystem::path(a.dir) / "checkpoint");
    if (!text) return fail(text.error());
    auto verified = audit::verify_log_dir(a.dir, *key, {});
    if (!verified) return fail(verified.error());
    auto again = audit::read_file(std::filesystem::path(a.dir) / "checkpoint");
    if (!again || *again != *text)
      return fail(Status(StatusCode::kFailedPrecondition,
                         "the log's checkpoint changed while it was being verified; run cosign again"));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    auto cosigned = audit::cosign_note(*text, *witness, static_cast<std::uint64_t>(now.count()));
    if (!cosigned) return fail(cosigned.error());
    if (auto s = audit::write_file_atomic(std::filesystem::path(a.dir) / "checkpoint", *cosigned); !s) return fail(s);
    std::cout << *cosigned;
  });
}

}  // namespace resonance::app
