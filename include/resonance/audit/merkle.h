#pragma once
// The RFC 9162 Merkle tree over log entries: proof generation over any source of complete-subtree
// hashes (memory, or tiles on disk), and the proof verifiers of RFC 9162 §2.1.3.2 and §2.1.4.2.

#include <cstdint>
#include <vector>

#include "resonance/audit/hash.h"
#include "resonance/core/status.h"

namespace resonance::audit {

// Source of the hash of the complete subtree of 2^level leaves starting at leaf index << level.
class HashReader {
 public:
  virtual ~HashReader() = default;
  virtual Result<Hash> node(int level, std::uint64_t index) const = 0;
};

// MTH(D[lo:hi]) from complete subtrees: at most 2·log2(n) reads.
Result<Hash> subtree_hash(const HashReader& reader, std::uint64_t lo, std::uint64_t hi);
inline Result<Hash> tree_hash(const HashReader& reader, std::uint64_t size) {
  return subtree_hash(reader, 0, size);
}

// PATH(index, D[0:size]), ordered from the leaf upwards (RFC 9162 §2.1.3.1).
Result<std::vector<Hash>> prove_inclusion(const HashReader& reader, std::uint64_t index, std::uint64_t size);
// PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1).
Result<std::vector<Hash>> prove_consistency(const HashReader& reader, std::uint64_t old_size,
                                            std::uint64_t new_size);

// Verifiers: Status::ok() when the proof holds, else kCorruption saying which check failed.
Status verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                        const std::vector<Hash>& proof, const Hash& root);
Status verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                          const Hash& new_root, const std::vector<Hash>& proof);

// Every complete-subtree hash at every level, in memory: 2 hashes (64 bytes) per leaf. Appending
// is amortised one leaf plus one node hash. Not thread-safe; the owner serialises access.
class MemoryTree final : public HashReader {
 public:
  void reserve(std::uint64_t leaves);
  void append(const Hash& leaf);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash root() const;  // of the whole tree
  Result<Hash> node(int level, std::uint64_t index) const override;
  // The stored hashes of one level (level 0 = leaf hashes): what hash tiles are cut from.
  const std::vector<Hash>& level(int level) const { return levels_[static_cast<std::size_t>(level)]; }
  int levels() const { return static_cast<int>(levels_.size()); }

 private:
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace resonance::audit
