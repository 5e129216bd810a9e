#pragma once
// C2SP tlog-tiles static layout (docs/formats/tlog-tiles.md): hash tiles tile/<L>/<N>[.p/<W>] of
// up to 256 hashes from tree level 8·L, and entry bundles tile/entries/<N>[.p/<W>] of u16
// length-prefixed entries. These files plus `checkpoint` are the whole copyable log.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "resonance/audit/merkle.h"
#include "resonance/core/status.h"

namespace resonance::audit {

inline constexpr int kTileHeight = 8;
inline constexpr std::uint64_t kTileWidth = 256;

// "x001/x234/067" for 1234067.
std::string tile_index_path(std::uint64_t n);
// "tile/<L>/<N>" or "tile/<L>/<N>.p/<W>" (W < 256); level -1 means the entry bundles.
inline constexpr int kEntriesLevel = -1;
std::string tile_path(int level, std::uint64_t n, std::uint64_t width);

// How many hashes tile n of `level` holds in a tree of `size` leaves (0 when it does not exist).
std::uint64_t tile_width(int level, std::uint64_t n, std::uint64_t size);

// Splits an entry bundle; kCorruption naming the offset when a length runs past the end.
Result<std::vector<std::string>> parse_bundle(std::string_view data);
void append_to_bundle(std::string_view entry, std::string& bundle);

// Reads a file whole; kNotFound / kIoError naming the path.
Result<std::string> read_file(const std::filesystem::path& path);
// Writes via a temporary file and rename: readers see the old or the new content. With `sync`,
// the file and its directory are fsynced too; without, the caller syncs many files at once.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data, bool sync = true);

// Complete-subtree hashes served from the hash tiles of a log directory for a tree of `size`
// leaves (full tile when present, else the partial one this size implies). Tiles are cached.
class TileHashReader final : public HashReader {
 public:
  TileHashReader(std::filesystem::path dir, std::uint64_t size) : dir_(std::move(dir)), size_(size) {}
  Result<Hash> node(int level, std::uint64_t index) const override;
  Result<const std::vector<Hash>*> tile(int tile_level, std::uint64_t n) const;

 private:
  std::filesystem::path dir_;
  std::uint64_t size_;
  mutable std::map<std::pair<int, std::uint64_t>, std::vector<Hash>> cache_;
};

}  // namespace resonance::audit
