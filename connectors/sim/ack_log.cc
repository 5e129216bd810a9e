#include "connectors/sim/ack_log.h"

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace resonance::sim {

Result<std::unique_ptr<AckLog>> AckLog::open(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, Closer> f(std::fopen(file.c_str(), "a"));
  if (!f) {
    return error(StatusCode::kIoError,
                 fmt::format("ack log {}: open: {}", file.string(), std::strerror(errno)));
  }
  // Our own buffer, larger than any line, so that fflush issues the whole line in one write.
  std::setvbuf(f.get(), nullptr, _IOFBF, 4096);
  return std::make_unique<AckLog>(std::move(f), file);
}

std::string AckLog::format_line(std::string_view path, TimestampNs ts_ns, double value) {
  return fmt::format("{} {} {:016x}\n", path, ts_ns, std::bit_cast<std::uint64_t>(value));
}

Status AckLog::append(std::string_view path, TimestampNs ts_ns, double value) {
  const std::string line = format_line(path, ts_ns, value);
  if (std::fputs(line.c_str(), file_.get()) < 0 || std::fflush(file_.get()) != 0) {
    return Status(StatusCode::kIoError,
                  fmt::format("ack log {}: write: {}", name_.string(), std::strerror(errno)));
  }
  return Status::ok();
}

}  // namespace resonance::sim
