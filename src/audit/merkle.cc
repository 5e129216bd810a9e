// RFC 9162 §2.1 proofs. Generation follows the recursive definitions over subtree hashes, so the
// same code serves the in-memory tree and tiles read from a copied directory.
#include "resonance/audit/merkle.h"

#include <bit>
#include <string>

namespace resonance::audit {

namespace {

// Largest power of two strictly below n (n >= 2).
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

Status append_inclusion(const HashReader& r, std::uint64_t m, std::uint64_t lo, std::uint64_t hi,
                        std::vector<Hash>& out) {
  if (hi - lo <= 1) return Status::ok();
  const std::uint64_t k = split_point(hi - lo);
  if (m < k) {
    if (auto s = append_inclusion(r, m, lo, lo + k, out); !s) return s;
    auto h = subtree_hash(r, lo + k, hi);
    if (!h) return h.error();
    out.push_back(*h);
  } else {
    if (auto s = append_inclusion(r, m - k, lo + k, hi, out); !s) return s;
    auto h = subtree_hash(r, lo, lo + k);
    if (!h) return h.error();
    out.push_back(*h);
  }
  return Status::ok();
}

Status append_subproof(const HashReader& r, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool complete,
                       std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (m == n) {
    if (complete) return Status::ok();
    auto h = subtree_hash(r, lo, hi);
    if (!h) return h.error();
    out.push_back(*h);
    return Status::ok();
  }
  const std::uint64_t k = split_point(n);
  if (m <= k) {
    if (auto s = append_subproof(r, m, lo, lo + k, complete, out); !s) return s;
    auto h = subtree_hash(r, lo + k, hi);
    if (!h) return h.error();
    out.push_back(*h);
  } else {
    if (auto s = append_subproof(r, m - k, lo + k, hi, false, out); !s) return s;
    auto h = subtree_hash(r, lo, lo + k);
    if (!h) return h.error();
    out.push_back(*h);
  }
  return Status::ok();
}

Status proof_error(const std::string& what) { return Status(StatusCode::kCorruption, what); }

}  // namespace

Result<Hash> subtree_hash(const HashReader& r, std::uint64_t lo, std::uint64_t hi) {
  if (hi <= lo) {
    if (hi == 0) return empty_tree_hash();
    return error(StatusCode::kInvalidArgument, "empty subtree requested");
  }
  const std::uint64_t n = hi - lo;
  if (std::has_single_bit(n) && lo % n == 0) return r.node(std::countr_zero(n), lo / n);
  const std::uint64_t k = split_point(n);
  auto left = subtree_hash(r, lo, lo + k);
  if (!left) return left;
  auto right = subtree_hash(r, lo + k, hi);
  if (!right) return right;
  return node_hash(*left, *right);
}

Result<std::vector<Hash>> prove_inclusion(const HashReader& r, std::uint64_t index, std::uint64_t size) {
  if (index >= size)
    return error(StatusCode::kOutOfRange,
                 "entry " + std::to_string(index) + " is not in a tree of " + std::to_string(size) + " entries");
  std::vector<Hash> out;
  if (auto s = append_inclusion(r, index, 0, size, out); !s) return error(s);
  return out;
}

Result<std::vector<Hash>> prove_consistency(const HashReader& r, std::uint64_t old_size, std::uint64_t new_size) {
  if (old_size > new_size)
    return error(StatusCode::kOutOfRange, "old size " + std::to_string(old_size) + " is larger than new size " +
                                              std::to_string(new_size));
  std::vector<Hash> out;
  if (old_size == 0 || old_size == new_size) return out;
  if (auto s = append_subproof(r, old_size, 0, new_size, true, out); !s) return error(s);
  return out;
}

Status verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& proof,
                        const Hash& root) {
  if (index >= size)
    return proof_error("inclusion proof: index " + std::to_string(index) + " is not below tree size " +
                       std::to_string(size));
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const auto& p : proof) {
    if (sn == 0) return proof_error("inclusion proof: too many hashes (" + std::to_string(proof.size()) + ")");
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return proof_error("inclusion proof: too few hashes (" + std::to_string(proof.size()) + ")");
  if (r != root)
    return proof_error("inclusion proof for entry " + std::to_string(index) + " leads to root " +
                       base64_encode(r) + ", the checkpoint says " + base64_encode(root));
  return Status::ok();
}

Status verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                          const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size)
    return proof_error("consistency: old size " + std::to_string(old_size) + " exceeds new size " +
                       std::to_string(new_size) + " (rollback)");
  if (old_size == new_size) {
    if (!proof.empty()) return proof_error("consistency: proof must be empty for equal sizes");
    if (old_root != new_root)
      return proof_error("consistency: two different roots for size " + std::to_string(old_size) + ": " +
                         base64_encode(old_root) + " and " + base64_encode(new_root) + " (fork)");
    return Status::ok();
  }
  if (old_size == 0) {
    if (!proof.empty()) return proof_error("consistency: proof from the empty tree must be empty");
    return Status::ok();
  }
  if (proof.empty()) return proof_error("consistency: empty proof");
  std::vector<Hash> p;
  if (std::has_single_bit(old_size)) p.push_back(old_root);
  p.insert(p.end(), proof.begin(), proof.end());
  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = p[0], sr = p[0];
  for (std::size_t i = 1; i < p.size(); ++i) {
    const Hash& c = p[i];
    if (sn == 0) return proof_error("consistency: too many hashes (" + std::to_string(proof.size()) + ")");
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return proof_error("consistency: too few hashes (" + std::to_string(proof.size()) + ")");
  if (fr != old_root)
    return proof_error("consistency: the tree of " + std::to_string(new_size) + " entries has root " +
                       base64_encode(fr) + " at size " + std::to_string(old_size) + ", the old checkpoint says " +
                       base64_encode(old_root) + " (fork)");
  if (sr != new_root)
    return proof_error("consistency: proof leads to root " + base64_encode(sr) + " for size " +
                       std::to_string(new_size) + ", the new checkpoint says " + base64_encode(new_root));
  return Status::ok();
}

void MemoryTree::reserve(std::uint64_t leaves) {
  for (int level = 0; (leaves >> level) > 0; ++level) {
    if (levels_.size() <= static_cast<std::size_t>(level)) levels_.emplace_back();
    levels_[static_cast<std::size_t>(level)].reserve(leaves >> level);
  }
}

void MemoryTree::append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  // Each time a level gets an even count, its last two nodes complete a parent.
  for (std::size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    if (levels_.size() == level + 1) levels_.emplace_back();
    const auto& l = levels_[level];
    levels_[level + 1].push_back(node_hash(l[l.size() - 2], l[l.size() - 1]));
  }
}

Hash MemoryTree::root() const { return *tree_hash(*this, size()); }

Result<Hash> MemoryTree::node(int level, std::uint64_t index) const {
  if (level < 0 || level >= levels() || index >= levels_[static_cast<std::size_t>(level)].size())
    return error(StatusCode::kOutOfRange,
                 "no complete subtree at level " + std::to_string(level) + " index " + std::to_string(index));
  return levels_[static_cast<std::size_t>(level)][index];
}

}  // namespace resonance::audit
