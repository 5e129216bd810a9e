#pragma once
// A progress bar for long work on the command line. On a terminal it redraws one line at most ten
// times a second; when stderr is not a terminal (CI logs, pipes) it stays silent until finish(),
// which prints a single summary line. Not thread-safe: call from the thread doing the work.

#include <chrono>
#include <cstdio>
#include <string>

namespace resonance::models {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, std::FILE* out = stderr);
  void update(long done, long total);
  void finish();  // idempotent
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

 private:
  std::string label_;
  std::FILE* out_;
  bool tty_;
  bool finished_ = false;
  long done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace resonance::models
