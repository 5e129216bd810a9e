#pragma once
// Shared helpers for the audit tests: a scratch directory and a log filled with typed entries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "resonance/audit/log.h"

namespace resonance::audit::testing {

// Scratch directories live under $TMPDIR and are removed when the test program exits.
inline std::filesystem::path scratch_dir(const std::string& name) {
  struct Cleanup {
    std::vector<std::filesystem::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Cleanup cleanup;
  auto dir = std::filesystem::temp_directory_path() /
             ("resonance-audit-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  cleanup.dirs.push_back(dir);
  return dir;
}

inline Entry make_entry(std::uint64_t i) {
  static constexpr EntryType kTypes[] = {EntryType::kIngestBatch, EntryType::kPolicyLoad, EntryType::kPolicyDecision,
                                         EntryType::kConsentChange, EntryType::kModelLifecycle, EntryType::kInferenceBatch};
  return Entry{kTypes[i % 6], static_cast<std::int64_t>(1'700'000'000'000'000'000 + i),
               "{\"seq\":" + std::to_string(i) + ",\"series\":\"line2/press-07/vib\"}"};
}

inline Signer test_signer(const std::string& name = "example.com/edge/test-node") {
  return *Signer::generate(name, KeyType::kEd25519);
}

// Appends `count` entries in batches of `batch` and writes a checkpoint.
inline std::unique_ptr<Log> filled_log(const std::filesystem::path& dir, const Signer& signer, std::uint64_t count,
                                       std::uint64_t batch = 50) {
  auto log = Log::open(dir, signer, LogOptions{.fsync = false});
  EXPECT_TRUE(log.has_value()) << log.error().message();
  std::vector<Entry> entries;
  for (std::uint64_t i = 0; i < count; ++i) {
    entries.push_back(make_entry(i));
    if (entries.size() == batch || i + 1 == count) {
      auto first = (*log)->append_batch(entries);
      EXPECT_TRUE(first.has_value());
      entries.clear();
    }
  }
  auto cp = (*log)->checkpoint();
  EXPECT_TRUE(cp.has_value()) << cp.error().message();
  return std::move(*log);
}

}  // namespace resonance::audit::testing
