// Offline checks of a copied log directory. Each check stops at the first bad thing and says where:
// the file, the entry index or tile position, and what was expected against what was found.
#include "resonance/audit/verify.h"

#include "resonance/audit/entry.h"
#include "resonance/audit/merkle.h"
#include "resonance/audit/tiles.h"

namespace resonance::audit {

namespace {

std::filesystem::path checkpoint_path(const std::filesystem::path& p) {
  return std::filesystem::is_directory(p) ? p / "checkpoint" : p;
}

std::unexpected<Status> corrupt(std::string what) { return error(StatusCode::kCorruption, std::move(what)); }

}  // namespace

Result<Checkpoint> read_checkpoint(const std::filesystem::path& file_or_dir, const VerifierKey* log_key,
                                   std::string* note_text) {
  const auto path = checkpoint_path(file_or_dir);
  auto text = read_file(path);
  if (!text) return error(text.error());
  Result<Note> note = parse_note(*text);
  if (log_key != nullptr) {
    auto opened = open_note(*text, {*log_key});
    if (!opened) return corrupt(path.string() + ": " + opened.error().message());
    note = opened->note;
  }
  if (!note) return error(note.error().code(), path.string() + ": " + note.error().message());
  auto cp = parse_checkpoint_text(note->text);
  if (!cp) return error(cp.error().code(), path.string() + ": " + cp.error().message());
  if (log_key != nullptr && cp->origin != log_key->name)
    return corrupt(path.string() + ": origin '" + cp->origin + "' is not the log key's name '" + log_key->name + "'");
  if (note_text != nullptr) *note_text = *text;
  return cp;
}

Result<VerifiedLog> verify_log_dir(const std::filesystem::path& dir, const VerifierKey& log_key,
                                   const std::vector<VerifierKey>& witnesses) {
  VerifiedLog out;
  std::string text;
  auto cp = read_checkpoint(dir, &log_key, &text);
  if (!cp) return error(cp.error());
  std::vector<VerifierKey> keys{log_key};
  keys.insert(keys.end(), witnesses.begin(), witnesses.end());
  auto opened = open_note(text, keys);
  if (!opened) return corrupt((dir / "checkpoint").string() + ": " + opened.error().message());
  out.checkpoint = *cp;
  out.signed_by = opened->verified_by;
  const std::uint64_t size = cp->size;

  // 1. Every entry: decodes, and its leaf hash is the one the level-0 tile holds.
  MemoryTree tree;
  tree.reserve(size);
  TileHashReader tiles(dir, size);
  for (std::uint64_t n = 0; n * kTileWidth < size; ++n) {
    const std::uint64_t width = tile_width(kEntriesLevel, n, size);
    std::string path = tile_path(kEntriesLevel, n, kTileWidth);
    auto data = read_file(dir / path);
    if (!data && width < kTileWidth && data.error().code() == StatusCode::kNotFound) {
      path = tile_path(kEntriesLevel, n, width);
      data = read_file(dir / path);
    }
    if (!data)
      return corrupt("entries " + std::to_string(n * kTileWidth) + "..: " + data.error().message() +
                     " (the checkpoint covers " + std::to_string(size) + " entries; truncated log?)");
    auto entries = parse_bundle(*data);
    if (!entries) return corrupt(path + ": " + entries.error().message());
    if (entries->size() < width)
      return corrupt(path + ": holds " + std::to_string(entries->size()) + " entries, the checkpoint (size " +
                     std::to_string(size) + ") needs " + std::to_string(width) + " (truncated log)");
    if (width == kTileWidth && entries->size() != kTileWidth)
      return corrupt(path + ": a full bundle holds " + std::to_string(entries->size()) + " entries, not 256");
    auto hash_tile = tiles.tile(0, n);
    if (!hash_tile) return corrupt("hash tile for entries " + std::to_string(n * kTileWidth) + ": " + hash_tile.error().message());
    for (std::uint64_t i = 0; i < width; ++i) {
      const std::uint64_t index = n * kTileWidth + i;
      const auto& bytes = (*entries)[i];
      if (auto e = decode_entry(as_bytes(bytes)); !e)
        return corrupt("entry " + std::to_string(index) + " (" + path + " #" + std::to_string(i) + "): " + e.error().message());
      const Hash leaf = leaf_hash(as_bytes(bytes));
      if (leaf != (**hash_tile)[i])
        return corrupt("entry " + std::to_string(index) + " (" + path + " #" + std::to_string(i) + ") hashes to " +
                       base64_encode(leaf) + " but " + tile_path(0, n, width) + " holds " + base64_encode((**hash_tile)[i]) +
                       " at position " + std::to_string(i) + ": the entry was altered, replaced or moved");
      tree.append(leaf);
      ++out.entries_checked;
    }
  }
  // 2. Every stored hash tile above level 0 matches the hashes recomputed from the entries.
  for (int level = 1; (size >> (level * kTileHeight)) > 0; ++level) {
    const auto& recomputed = tree.level(level * kTileHeight);
    for (std::uint64_t n = 0; tile_width(level, n, size) > 0; ++n) {
      auto t = tiles.tile(level, n);
      if (!t) return corrupt("hash tile " + std::to_string(level) + "/" + std::to_string(n) + ": " + t.error().message());
      for (std::uint64_t i = 0; i < (*t)->size(); ++i)
        if ((**t)[i] != recomputed[n * kTileWidth + i])
          return corrupt(tile_path(level, n, tile_width(level, n, size)) + " position " + std::to_string(i) + " holds " +
                         base64_encode((**t)[i]) + ", the entries give " + base64_encode(recomputed[n * kTileWidth + i]));
      ++out.tiles_checked;
    }
  }
  out.tiles_checked += (size + kTileWidth - 1) / kTileWidth;
  // 3. The root.
  const Hash root = tree.root();
  if (root != cp->root)
    return corrupt("the " + std::to_string(size) + " entries hash to root " + base64_encode(root) +
                   " but the signed checkpoint says " + base64_encode(cp->root));
  return out;
}

Result<std::string> prove_entry(const std::filesystem::path& dir, std::uint64_t index, const VerifierKey* log_key) {
  std::string text;
  auto cp = read_checkpoint(dir, log_key, &text);
  if (!cp) return error(cp.error());
  if (index >= cp->size)
    return error(StatusCode::kOutOfRange, "entry " + std::to_string(index) + " is not in the checkpoint of " +
                                              std::to_string(cp->size) + " entries");
  TileHashReader tiles(dir, cp->size);
  auto proof = prove_inclusion(tiles, index, cp->size);
  if (!proof) return error(proof.error());
  auto leaf = tiles.node(0, index);
  if (!leaf) return error(leaf.error());
  // The tiles could be damaged: never hand out a proof that does not check.
  if (auto s = verify_inclusion(*leaf, index, cp->size, *proof, cp->root); !s)
    return corrupt("tiles in " + dir.string() + " do not match the checkpoint: " + s.message());
  return format_proof_file(ProofFile{"", index, std::move(*proof), text});
}

Result<ConsistencyResult> check_consistency(const std::filesystem::path& older, const std::filesystem::path& newer,
                                            const std::filesystem::path& tiles_dir, const VerifierKey* log_key) {
  ConsistencyResult r;
  auto a = read_checkpoint(older, log_key);
  if (!a) return error(a.error());
  auto b = read_checkpoint(newer, log_key);
  if (!b) return error(b.error());
  r.older = *a;
  r.newer = *b;
  if (a->origin != b->origin)
    return corrupt("the checkpoints are from different logs: '" + a->origin + "' and '" + b->origin + "'");
  if (a->size > b->size)
    return corrupt("OLD has " + std::to_string(a->size) + " entries, NEW only " + std::to_string(b->size) +
                   " (rollback, or the arguments are swapped)");
  TileHashReader tiles(tiles_dir, b->size);
  // The tiles must belong to NEW before they are trusted to prove anything about OLD.
  auto new_root = tree_hash(tiles, b->size);
  if (!new_root) return error(new_root.error().code(), tiles_dir.string() + ": " + new_root.error().message());
  if (*new_root != b->root)
    return corrupt("the tiles in " + tiles_dir.string() + " give root " + base64_encode(*new_root) + " for size " +
                   std::to_string(b->size) + ", NEW says " + base64_encode(b->root));
  auto proof = prove_consistency(tiles, a->size, b->size);
  if (!proof) return error(proof.error());
  if (auto s = verify_consistency(a->size, b->size, a->root, b->root, *proof); !s)
    return corrupt("OLD (size " + std::to_string(a->size) + ", root " + base64_encode(a->root) + ") and NEW (size " +
                   std::to_string(b->size) + ", root " + base64_encode(b->root) + ") are not consistent: " + s.message());
  r.proof = std::move(*proof);
  return r;
}

}  // namespace resonance::audit
