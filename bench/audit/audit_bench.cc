// scripts/bench audit: the transparency log's figures (issue 7).
//  1. append with hashing: entries of ~120 bytes through Log::append_batch (encode, leaf hash,
//     tree update, one journal write and one fdatasync per batch), then a checkpoint.
//  2. inclusion proof in a 100-million-entry log: the leaves are synthetic (leaf i = the RFC 9162
//     leaf hash of the 8-byte index), and every interior node is computed and stored in a
//     MemoryTree (all levels, 64 bytes per leaf = 6.4 GB), exactly as the node's log stores them;
//     proofs are then generated for random indexes and each one is verified against the root.
//  3. inclusion proof from tiles on disk (cold reader per proof), as `resonance audit prove` does.
//  4. a cached egress-gate decision, including the record handed to a (counting) decision sink,
//     for three label classes (general; important over an approved route; personal with consent).
// The peer, Go's sumdb/tlog on the same data (bench/audit/gopeer, run first by run.sh), comes in
// with --peer-json; its synthetic root must equal ours (same leaves, RFC 6962 hashing).
// Prints figures, then one JSON line.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "resonance/audit/log.h"
#include "resonance/audit/tiles.h"
#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"

using namespace resonance::audit;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Percentiles {
  double mean, p50, p99, max;
};
Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {sum / static_cast<double>(v.size()), v[v.size() / 2], v[v.size() * 99 / 100], v.back()};
}

constexpr const char* kPolicy = R"(schema_version = 1
kind = "policy"
version = "bench-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "de-vendor"
jurisdiction = "DE"
max_sharing = "amber"
purposes = ["maintenance", "monitoring"]

[[route]]
id = "SA-1"
type = "security_assessment"
destination = "de-vendor"
approval_ref = "CAC-1"
series = ["p1/moulding/**"]
purposes = ["maintenance"]
valid_until = 2099-01-01T00:00:00Z

[[consent]]
id = "C-OK"
subject = "p1/*/*/*/operator_badge"
purposes = ["monitoring"]
legal_basis = "consent"
expires = 2099-01-01
cross_border = true
)";

class CountingSink final : public resonance::governance::DecisionSink {
 public:
  void record(const resonance::governance::DecisionRecord&) override { ++count; }
  std::uint64_t count = 0;
};

// ns per cached decision for each label class; fails (returns an empty object) on a wrong verdict.
nlohmann::json time_gate_decisions(std::uint64_t iterations) {
  namespace g = resonance::governance;
  auto parsed = g::parse_policy(kPolicy, "bench-policy.toml");
  if (!parsed) {
    std::cerr << "audit_bench: " << parsed.error().message() << "\n";
    return {};
  }
  const auto policy = std::make_shared<const g::Policy>(std::move(*parsed));
  CountingSink sink;
  g::EgressGate gate(policy, sink);
  const auto subject = [](g::Grade grade, g::Personal personal, std::string scope) {
    g::Subject s;
    s.labels.grade = grade;
    s.labels.personal = personal;
    s.scope = std::move(scope);
    return s;
  };
  const struct {
    const char* name;
    g::Subject subject;
    const char* purpose;
  } classes[] = {
      {"general", subject(g::Grade::kGeneral, g::Personal::kNone, "p1/a/l/cnc-01/spindle_speed"), "maintenance"},
      {"important_route", subject(g::Grade::kImportant, g::Personal::kNone, "p1/moulding/l/im-01/cavity_pressure"),
       "maintenance"},
      {"personal_consent", subject(g::Grade::kGeneral, g::Personal::kPersonal, "p1/a/l/st-01/operator_badge"),
       "monitoring"}};
  const std::int64_t now = 1'795'219'200LL * 1'000'000'000LL;
  nlohmann::json out;
  for (const auto& c : classes) {
    (void)gate.decide(c.subject, "de-vendor", c.purpose, now);  // fills the cache
    std::uint64_t allowed = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i)
      allowed += gate.decide(c.subject, "de-vendor", c.purpose, now + static_cast<std::int64_t>(i)).allowed();
    const double ns = seconds_since(t0) * 1e9 / static_cast<double>(iterations);
    if (allowed != iterations) {
      std::cerr << "audit_bench: gate denied a " << c.name << " decision it should allow\n";
      return {};
    }
    fmt::print("cached gate decision ({}): {:.1f} ns over {} decisions, each recorded\n", c.name, ns, iterations);
    out[c.name] = ns;
  }
  return out;
}

std::string base64(const Hash& h) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < h.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{h[i]} << 16) | (i + 1 < h.size() ? std::uint32_t{h[i + 1]} << 8 : 0) |
                            (i + 2 < h.size() ? h[i + 2] : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < h.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < h.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = "/tmp/audit-bench";
  std::uint64_t append_entries = 4'000'000, batch = 4096, proof_leaves = 100'000'000, proofs = 20'000;
  std::uint64_t gate_decisions = 1'000'000;
  std::string peer_json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--help" || a == "-h") {
      std::cout << "audit_bench [--dir DIR] [--entries N] [--batch N] [--proof-leaves N] [--proofs N]\n"
                   "            [--gate-decisions N] [--peer-json FILE]\n"
                   "  --entries N       entries appended through Log::append_batch (default 4000000)\n"
                   "  --batch N         entries per append_batch, i.e. per fdatasync (default 4096)\n"
                   "  --proof-leaves N  leaves of the synthetic tree for the proof timing (default 100000000; 64 B/leaf of RAM)\n"
                   "  --proofs N        inclusion proofs timed (default 20000)\n"
                   "  --gate-decisions N  cached egress-gate decisions timed per label class (default 1000000)\n"
                   "  --peer-json FILE  the peer's JSON line (bench/audit/gopeer), merged into ours\n";
      return 0;
    }
    if (a == "--dir") dir = next();
    else if (a == "--entries") append_entries = std::stoull(next());
    else if (a == "--batch") batch = std::stoull(next());
    else if (a == "--proof-leaves") proof_leaves = std::stoull(next());
    else if (a == "--proofs") proofs = std::stoull(next());
    else if (a == "--gate-decisions") gate_decisions = std::stoull(next());
    else if (a == "--peer-json") peer_json = next();
    else {
      std::cerr << "audit_bench: unknown argument " << a << " (see --help)\n";
      return 2;
    }
  }
  nlohmann::json out{{"bench", "audit"}};
  std::filesystem::remove_all(dir);

  // 1. Append with hashing: durable per batch (fdatasync), then with the journal in the page cache
  //    only (what kill -9 needs; isolates hashing from the disk).
  std::unique_ptr<Log> kept;
  for (const bool fsync : {true, false}) {
    std::filesystem::remove_all(dir);
    auto signer = *Signer::generate("bench.example/edge/node", KeyType::kEd25519);
    auto log = Log::open(dir, signer, LogOptions{.fsync = fsync});
    if (!log) {
      std::cerr << "audit_bench: " << log.error().message() << "\n";
      return 1;
    }
    std::vector<Entry> entries(batch);
    double append_s = 0;  // only inside append_batch: building the sample entries is the producer's cost
    for (std::uint64_t done = 0; done < append_entries; done += batch) {
      const std::uint64_t n = std::min(batch, append_entries - done);
      entries.resize(n);
      for (std::uint64_t i = 0; i < n; ++i)
        entries[i] = Entry{EntryType::kIngestBatch, static_cast<std::int64_t>(1'763'700'000'000'000'000 + done + i),
                           fmt::format("{{\"series\":\"line2/press-07/vib\",\"n\":512,\"seq\":{},\"digest\":\"sha256:{:016x}\"}}",
                                       done + i, (done + i) * 0x9e3779b97f4a7c15ull)};
      const auto t0 = Clock::now();
      auto r = (*log)->append_batch(entries);
      append_s += seconds_since(t0);
      if (!r) {
        std::cerr << "audit_bench: " << r.error().message() << "\n";
        return 1;
      }
    }
    const auto t1 = Clock::now();
    auto cp = (*log)->checkpoint();
    const double checkpoint_s = seconds_since(t1);
    if (!cp) {
      std::cerr << "audit_bench: " << cp.error().message() << "\n";
      return 1;
    }
    const double rate = static_cast<double>(append_entries) / append_s;
    const std::string mode = fsync ? "fdatasync per batch" : "no fsync (kill -9 safe)";
    fmt::print("append+hash, {}: {} entries in {:.3f} s = {:.0f} entries/s (batch {}, leaf hashing on 2 threads)\n", mode,
               append_entries, append_s, rate, batch);
    fmt::print("  first checkpoint (all tiles + bundles for {} entries + signature): {:.3f} s\n", append_entries, checkpoint_s);
    const std::string key = fsync ? "fsync" : "nosync";
    out["append_entries_per_s_" + key] = rate;
    out["checkpoint_all_tiles_s_" + key] = checkpoint_s;
    kept = std::move(*log);
  }
  out["append_batch"] = batch;
  {
    auto* log = &kept;
    // 3. Proofs from tiles, a cold reader each time (reads ≤ 4 tiles, hashes within them).
    std::mt19937_64 rng(7);
    std::vector<double> us;
    const std::uint64_t size = (*log)->size();
    const Hash root = (*log)->root();
    for (int i = 0; i < 2000; ++i) {
      const std::uint64_t index = rng() % size;
      const auto t = Clock::now();
      TileHashReader tiles(dir, size);
      auto proof = prove_inclusion(tiles, index, size);
      us.push_back(seconds_since(t) * 1e6);
      auto leaf = tiles.node(0, index);
      if (!proof || !leaf || !verify_inclusion(*leaf, index, size, *proof, root).is_ok()) {
        std::cerr << "audit_bench: a tile proof failed to verify\n";
        return 1;
      }
    }
    const auto p = percentiles(us);
    fmt::print("inclusion proof from tiles on disk ({} entries, cold reader): mean {:.1f} us, p50 {:.1f}, p99 {:.1f}\n",
               size, p.mean, p.p50, p.p99);
    out["tile_proof_us"] = {{"entries", size}, {"mean", p.mean}, {"p50", p.p50}, {"p99", p.p99}};
  }
  kept.reset();
  std::filesystem::remove_all(dir);

  // 2. Inclusion proof in a tree of proof_leaves leaves, all levels stored in memory.
  if (proof_leaves > 0) {
    MemoryTree tree;
    const auto t0 = Clock::now();
    tree.reserve(proof_leaves);
    for (std::uint64_t i = 0; i < proof_leaves; ++i) {
      std::uint8_t le[8];
      std::memcpy(le, &i, 8);
      tree.append(leaf_hash(le));
    }
    const double build_s = seconds_since(t0);
    const Hash root = tree.root();
    fmt::print("synthetic tree of {} leaves built in {:.1f} s ({:.0f} appends/s)\n", proof_leaves, build_s,
               static_cast<double>(proof_leaves) / build_s);
    std::mt19937_64 rng(11);
    std::vector<double> us;
    us.reserve(proofs);
    for (std::uint64_t i = 0; i < proofs; ++i) {
      const std::uint64_t index = rng() % proof_leaves;
      const auto t = Clock::now();
      auto proof = prove_inclusion(tree, index, proof_leaves);
      us.push_back(seconds_since(t) * 1e6);
      if (!proof || !verify_inclusion(tree.level(0)[index], index, proof_leaves, *proof, root).is_ok()) {
        std::cerr << "audit_bench: proof for " << index << " failed to verify\n";
        return 1;
      }
    }
    const auto p = percentiles(us);
    fmt::print("inclusion proof in a {}-entry log: mean {:.2f} us, p50 {:.2f}, p99 {:.2f}, max {:.2f} ({} proofs, each verified)\n",
               proof_leaves, p.mean, p.p50, p.p99, p.max, proofs);
    out["proof_leaves"] = proof_leaves;
    out["synthetic_root"] = base64(root);
    out["proof_us"] = {{"mean", p.mean}, {"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
    out["synthetic_build_s"] = build_s;
  }
  if (gate_decisions > 0) {
    auto gate = time_gate_decisions(gate_decisions);
    if (gate.is_null()) return 1;
    out["gate_cached_decision_ns"] = gate;
  }
  if (!peer_json.empty()) {
    std::ifstream in(peer_json);
    auto peer = nlohmann::json::parse(in, nullptr, false);
    if (peer.is_discarded()) {
      std::cerr << "audit_bench: " << peer_json << ": not a JSON object\n";
      return 1;
    }
    fmt::print("peer {}: append+hash {:.0f} entries/s (in memory, no journal)", peer.value("engine", "?"),
               peer.value("append_entries_per_s", 0.0));
    if (peer.contains("proof_us"))
      fmt::print("; inclusion proof in a {}-entry tree p50 {:.2f} us, p99 {:.2f} us", peer.value("proof_leaves", 0),
                 peer["proof_us"].value("p50", 0.0), peer["proof_us"].value("p99", 0.0));
    fmt::print("\n");
    // Same leaves, same hashing: the roots must agree, or one of the two trees is wrong.
    if (peer.contains("root") && out.contains("synthetic_root") &&
        peer.value("proof_leaves", std::uint64_t{0}) == proof_leaves) {
      const bool same = peer["root"] == out["synthetic_root"];
      fmt::print("synthetic root {} Go's\n", same ? "equals" : "DIFFERS FROM");
      out["root_matches_peer"] = same;
      if (!same) return 1;
    }
    out["peers"] = nlohmann::json::array({peer});
  }
  std::cout << out.dump() << "\n";
  return 0;
}
