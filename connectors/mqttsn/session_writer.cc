#include "connectors/mqttsn/session_writer.h"

#include <utility>

#include "connectors/mqttsn/session_store.h"

namespace resonance::mqttsn {

SessionFileWriter::SessionFileWriter(std::filesystem::path file, std::function<void(const Status&)> on_result)
    : file_(std::move(file)), on_result_(std::move(on_result)), thread_([this] { run(); }) {}

SessionFileWriter::~SessionFileWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SessionFileWriter::submit(std::string text) {
  {
    std::lock_guard lock(mu_);
    waiting_ = std::move(text);
  }
  cv_.notify_all();
}

void SessionFileWriter::drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !waiting_ && !writing_; });
}

void SessionFileWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return waiting_ || stopping_; });
    if (!waiting_) return;  // stopping, nothing left to write
    std::string text = std::move(*waiting_);
    waiting_.reset();
    writing_ = true;
    lock.unlock();
    const Status status = write_sessions_text(file_, text);
    if (on_result_) on_result_(status);
    lock.lock();
    writing_ = false;
    cv_.notify_all();  // drain()
  }
}

}  // namespace resonance::mqttsn
