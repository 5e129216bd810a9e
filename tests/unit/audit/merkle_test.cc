// The tree against a direct transcription of RFC 9162 §2.1 (MTH, PATH, PROOF over a list of
// leaves), for every size up to 70 and every index or old size, plus tamper cases.
#include <gtest/gtest.h>

#include "resonance/audit/merkle.h"

namespace resonance::audit {
namespace {

std::vector<Hash> leaves(std::uint64_t n) {
  std::vector<Hash> out;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string data = "leaf " + std::to_string(i);
    out.push_back(leaf_hash(as_bytes(data)));
  }
  return out;
}

std::uint64_t k_of(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[lo:hi]) straight from the RFC's recursive definition.
Hash mth(const std::vector<Hash>& d, std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo == 0) return empty_tree_hash();
  if (hi - lo == 1) return d[lo];
  const auto k = k_of(hi - lo);
  return node_hash(mth(d, lo, lo + k), mth(d, lo + k, hi));
}

std::vector<Hash> path(const std::vector<Hash>& d, std::uint64_t m, std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo <= 1) return {};
  const auto k = k_of(hi - lo);
  std::vector<Hash> p;
  if (m < k) {
    p = path(d, m, lo, lo + k);
    p.push_back(mth(d, lo + k, hi));
  } else {
    p = path(d, m - k, lo + k, hi);
    p.push_back(mth(d, lo, lo + k));
  }
  return p;
}

std::vector<Hash> subproof(const std::vector<Hash>& d, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool b) {
  const auto n = hi - lo;
  if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{mth(d, lo, hi)};
  const auto k = k_of(n);
  std::vector<Hash> p;
  if (m <= k) {
    p = subproof(d, m, lo, lo + k, b);
    p.push_back(mth(d, lo + k, hi));
  } else {
    p = subproof(d, m - k, lo + k, hi, false);
    p.push_back(mth(d, lo, lo + k));
  }
  return p;
}

TEST(Merkle, EmptyTreeIsSha256OfNothing) {
  EXPECT_EQ(hex(empty_tree_hash()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  MemoryTree t;
  EXPECT_EQ(t.root(), empty_tree_hash());
}

TEST(Merkle, LeafAndNodeHashesUseDomainPrefixes) {
  // SHA-256(0x00) and SHA-256(0x01 || 0^32 || 0^32) computed independently (Python hashlib).
  EXPECT_EQ(hex(leaf_hash({})), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Hash zero{};
  EXPECT_NE(node_hash(zero, zero), sha256(std::vector<std::uint8_t>(64, 0)));
}

TEST(Merkle, RootsAndProofsMatchTheRfcDefinitions) {
  const auto d = leaves(70);
  MemoryTree tree;
  for (std::uint64_t n = 1; n <= d.size(); ++n) {
    tree.append(d[n - 1]);
    const Hash root = mth(d, 0, n);
    ASSERT_EQ(tree.root(), root) << "n=" << n;
    for (std::uint64_t m = 0; m < n; ++m) {
      auto p = prove_inclusion(tree, m, n);
      ASSERT_TRUE(p.has_value());
      ASSERT_EQ(*p, path(d, m, 0, n)) << "PATH m=" << m << " n=" << n;
      ASSERT_TRUE(verify_inclusion(d[m], m, n, *p, root).is_ok()) << "m=" << m << " n=" << n;
      // A wrong leaf, index or root must fail.
      EXPECT_FALSE(verify_inclusion(d[(m + 1) % n], m, n, *p, root).is_ok() && n > 1);
      if (!p->empty()) {
        auto bad = *p;
        bad[0][3] ^= 1;
        EXPECT_FALSE(verify_inclusion(d[m], m, n, bad, root).is_ok());
        bad = *p;
        bad.pop_back();
        EXPECT_FALSE(verify_inclusion(d[m], m, n, bad, root).is_ok());
      }
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto p = prove_consistency(tree, m, n);
      ASSERT_TRUE(p.has_value());
      const auto expected = m == n ? std::vector<Hash>{} : subproof(d, m, 0, n, true);
      ASSERT_EQ(*p, expected) << "PROOF m=" << m << " n=" << n;
      const Hash old_root = mth(d, 0, m);
      ASSERT_TRUE(verify_consistency(m, n, old_root, root, *p).is_ok()) << "m=" << m << " n=" << n;
      if (m < n) {
        Hash forked = old_root;
        forked[0] ^= 0x80;
        const auto s = verify_consistency(m, n, forked, root, *p);
        EXPECT_FALSE(s.is_ok());
        EXPECT_FALSE(verify_consistency(m, n, old_root, forked, *p).is_ok());
      }
    }
  }
}

TEST(Merkle, ConsistencyFailureNamesAFork) {
  const auto d = leaves(10);
  MemoryTree tree;
  for (const auto& h : d) tree.append(h);
  auto p = prove_consistency(tree, 6, 10);
  ASSERT_TRUE(p.has_value());
  Hash forked = mth(d, 0, 6);
  forked[5] ^= 1;
  const auto s = verify_consistency(6, 10, forked, tree.root(), *p);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("fork"), std::string::npos) << s.message();
  EXPECT_NE(verify_consistency(10, 6, tree.root(), forked, {}).message().find("rollback"), std::string::npos);
}

TEST(Merkle, ProofsOutsideTheTreeAreErrors) {
  MemoryTree tree;
  tree.append(leaves(1)[0]);
  EXPECT_EQ(prove_inclusion(tree, 1, 1).error().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(prove_consistency(tree, 2, 1).error().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(prove_inclusion(tree, 0, 2).error().code(), StatusCode::kOutOfRange);  // leaf 1 not stored
}

}  // namespace
}  // namespace resonance::audit
