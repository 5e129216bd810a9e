#pragma once
// Shared helpers for the historian tests: scratch directories, batch builders, bit comparison and
// an Env wrapper that counts syncs and can be told to fail.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "historian/env.h"
#include "resonance/core/sample.h"
#include "resonance/historian/historian.h"

namespace resonance::historian::testing {

// A fresh directory per test, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("historian_") + info->test_suite_name() + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline SampleBatch make_batch(SeriesId series, TimestampNs ts0, int n, double v0 = 0.0) {
  SampleBatch b;
  b.provenance.connector = "test";
  b.provenance.client_id = "client-" + std::to_string(series);
  b.provenance.receive_ts_ns = ts0;
  for (int i = 0; i < n; ++i)
    b.samples.push_back(Sample{series, ts0 + i, v0 + i, Quality{Quality::kGood}});
  return b;
}

inline bool bit_equal(const Sample& a, const Sample& b) {
  return a.series == b.series && a.ts_ns == b.ts_ns && a.quality == b.quality &&
         std::bit_cast<std::uint64_t>(a.value) == std::bit_cast<std::uint64_t>(b.value);
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Submits and waits for the durable callback; returns its status.
inline Status submit_and_wait(Historian& h, SampleBatch batch) {
  std::promise<Status> done;
  auto fut = done.get_future();
  const Admission a = h.submit(std::move(batch), [&done](const Status& s) { done.set_value(s); });
  if (a != Admission::kAccepted) return Status(StatusCode::kUnavailable, "not accepted");
  return fut.get();
}

inline HistorianOptions fast_options(const std::filesystem::path& dir) {
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kNone;
  o.group_commit_interval_us = 200;
  return o;
}

// Delegates to the POSIX Env, counting syncs and failing writes or syncs on request.
class CountingEnv final : public Env {
 public:
  std::atomic<int> syncs{0};
  std::atomic<bool> fail_sync{false};
  std::atomic<bool> fail_append{false};

  Result<std::unique_ptr<WritableFile>> open_appendable(const std::filesystem::path& path) override {
    auto f = posix_env().open_appendable(path);
    if (!f) return f;
    return std::unique_ptr<WritableFile>(new File(*this, std::move(*f)));
  }
  Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& p) override {
    return posix_env().read_file(p);
  }
  Result<std::uint64_t> file_size(const std::filesystem::path& p) override { return posix_env().file_size(p); }
  Status truncate(const std::filesystem::path& p, std::uint64_t n) override { return posix_env().truncate(p, n); }
  Result<std::vector<std::string>> list_dir(const std::filesystem::path& d) override {
    return posix_env().list_dir(d);
  }
  Status remove(const std::filesystem::path& p) override { return posix_env().remove(p); }
  Status create_dirs(const std::filesystem::path& d) override { return posix_env().create_dirs(d); }
  Status sync_dir(const std::filesystem::path& d) override { return posix_env().sync_dir(d); }

 private:
  class File final : public WritableFile {
   public:
    File(CountingEnv& env, std::unique_ptr<WritableFile> inner) : env_(env), inner_(std::move(inner)) {}
    Status append(std::span<const std::uint8_t> data) override {
      if (env_.fail_append) return Status(StatusCode::kIoError, "write: No space left on device (injected)");
      return inner_->append(data);
    }
    Status sync() override {
      if (env_.fail_sync) return Status(StatusCode::kIoError, "fdatasync: Input/output error (injected)");
      ++env_.syncs;
      return inner_->sync();
    }
    std::uint64_t size() const override { return inner_->size(); }

   private:
    CountingEnv& env_;
    std::unique_ptr<WritableFile> inner_;
  };
};

}  // namespace resonance::historian::testing
