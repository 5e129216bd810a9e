#include "resonance/models/progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace resonance::models {

ProgressBar::ProgressBar(std::string label, std::FILE* out)
    : label_(std::move(label)), out_(out), tty_(::isatty(::fileno(out)) == 1), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(long done, long total) {
  done_ = done;
  total_ = total;
  if (!tty_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  fmt::print(out_, "\r{} [{}{}] {:3.0f}% {:.1f}s", label_, std::string(static_cast<std::size_t>(filled), '#'),
             std::string(static_cast<std::size_t>(kWidth - filled), '.'), fraction * 100, elapsed);
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  fmt::print(out_, "{}{}: {} of {} done in {:.1f}s\n", tty_ ? "\r\033[K" : "", label_, done_, total_, elapsed);
}

}  // namespace resonance::models
