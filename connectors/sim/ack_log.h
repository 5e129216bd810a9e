#pragma once
// The acknowledgement log: one line per sample the gateway acknowledged as durable,
//   "<series path> <ts_ns> <value as the 16 hex digits of its IEEE-754 bits>\n"
// The end-to-end tests compare it with what the historian holds; hex bits make the comparison
// exact where a decimal rendering might round.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "resonance/core/status.h"
#include "resonance/core/time.h"

namespace resonance::sim {

class AckLog {
 public:
  // Opens for append (O_APPEND), creating the file if needed.
  static Result<std::unique_ptr<AckLog>> open(const std::filesystem::path& file);

  // Writes and flushes one line. The line goes out in a single write(2) to an O_APPEND file, so
  // several devices (threads or processes) may share the file without interleaving lines.
  Status append(std::string_view path, TimestampNs ts_ns, double value);

  static std::string format_line(std::string_view path, TimestampNs ts_ns, double value);

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  // Takes an open stream; open() is the way to get one.
  AckLog(std::unique_ptr<std::FILE, Closer> file, std::filesystem::path name)
      : file_(std::move(file)), name_(std::move(name)) {}

 private:
  std::unique_ptr<std::FILE, Closer> file_;
  std::filesystem::path name_;
};

}  // namespace resonance::sim
