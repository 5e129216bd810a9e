// Writes the gateway's session state file on its own thread. The file is replaced with a
// temporary file, fsync and rename; an fsync takes from a fraction of a millisecond to tens of
// milliseconds here, and on the gateway's event loop it held up every PUBLISH and PUBACK of
// every client while it ran. The loop encodes the state (it owns the sessions) and hands the
// text over; only the newest text waiting is written, so a burst of CONNECTs costs one write.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "resonance/core/status.h"

namespace resonance::mqttsn {

class SessionFileWriter {
 public:
  // `on_result` runs on the writer thread after every write (counting, logging).
  SessionFileWriter(std::filesystem::path file, std::function<void(const Status&)> on_result);
  ~SessionFileWriter();  // writes what is waiting, then stops
  SessionFileWriter(const SessionFileWriter&) = delete;
  SessionFileWriter& operator=(const SessionFileWriter&) = delete;

  // Replaces whatever text still waits; returns at once.
  void submit(std::string text);
  // Returns once everything submitted before the call is on disk (or failed).
  void drain();

 private:
  void run();

  const std::filesystem::path file_;
  const std::function<void(const Status&)> on_result_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> waiting_;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace resonance::mqttsn
