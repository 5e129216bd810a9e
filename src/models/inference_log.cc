#include "resonance/models/inference_log.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cmath>
#include <iterator>
#include <chrono>
#include <cstring>
#include <deque>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "resonance/core/json_writer.h"

namespace resonance::models {

namespace {

using nlohmann::json;

// The record's fields without model and version, keys in sorted order. Written by hand rather
// than through nlohmann::json: at 100,000 runs per second the generic tree (a map and an
// allocation per key) was the largest cost of the inference path (docs/models.md "Inference
// figures").
void append_record_fields(std::string& out, const InferenceRecord& r, bool with_model) {
  out += "{\"equipment\":";
  json_writer::append_string(out, r.equipment);
  fmt::format_to(std::back_inserter(out), ",\"from_ns\":{},\"input_sha256\":", r.window_from_ns);
  json_writer::append_string(out, r.input_sha256);
  fmt::format_to(std::back_inserter(out), ",\"latency_ns\":{}", r.latency_ns);
  if (with_model) {
    out += ",\"model\":";
    json_writer::append_string(out, r.model);
  }
  out += ",\"outputs\":[";
  for (std::size_t i = 0; i < r.outputs.size(); ++i) {
    if (i > 0) out.push_back(',');
    json_writer::append_double_with_fraction(out, r.outputs[i]);
  }
  fmt::format_to(std::back_inserter(out), "],\"samples\":{},\"to_ns\":{}", r.window_samples, r.window_to_ns);
  if (with_model) {
    out += ",\"version\":";
    json_writer::append_string(out, r.version);
  }
  out.push_back('}');
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string header_line() {
  return dump(json{{"format", "resonance.inference-log"}, {"version", kInferenceLogVersion}});
}

}  // namespace

std::string inference_record_json(const InferenceRecord& r) {
  std::string out;
  out.reserve(256);
  append_record_fields(out, r, true);
  return out;
}

std::string model_switch_json(const ModelSwitch& e) {
  std::string out = fmt::format("{{\"at_ns\":{},\"event\":\"switch\",\"from_version\":", e.at_ns);
  json_writer::append_string(out, e.from_version);
  out += ",\"model\":";
  json_writer::append_string(out, e.model);
  out += ",\"version\":";
  json_writer::append_string(out, e.version);
  out.push_back('}');
  return out;
}

std::vector<std::string> inference_batch_bodies(std::span<const InferenceRecord> records, std::size_t max_body_bytes) {
  std::vector<std::string> bodies;
  std::size_t i = 0;
  std::string one;
  while (i < records.size()) {
    // {"model":…,"records":[…],"version":…}: keys sorted, as every text of the log is.
    std::string body = "{\"model\":";
    json_writer::append_string(body, records[i].model);
    body += ",\"records\":[";
    std::string tail = "],\"version\":";
    json_writer::append_string(tail, records[i].version);
    tail.push_back('}');
    std::size_t k = i;
    while (k < records.size() && records[k].model == records[i].model && records[k].version == records[i].version) {
      one.clear();
      append_record_fields(one, records[k], false);
      const std::size_t add = one.size() + (k > i ? 1 : 0);
      if (k > i && body.size() + add + tail.size() > max_body_bytes) break;  // one record always fits
      if (k > i) body.push_back(',');
      body += one;
      ++k;
    }
    bodies.push_back(body + tail);
    i = k;
  }
  return bodies;
}

Result<std::vector<std::string>> read_inference_log(const std::filesystem::path& file, std::string_view model,
                                                    std::size_t limit) {
  std::ifstream in(file);
  if (!in) return error(StatusCode::kNotFound, fmt::format("inference log '{}': cannot open", file.string()));
  std::deque<std::string> out;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return error(StatusCode::kCorruption, fmt::format("{}:{}: not a JSON object", file.string(), line_no));
    if (line_no == 1) {
      if (j.value("format", "") != "resonance.inference-log" || j.value("version", 0) != kInferenceLogVersion)
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}:1: not an inference log of version {}", file.string(), kInferenceLogVersion));
      continue;
    }
    if (!model.empty() && j.value("model", "") != model) continue;
    out.push_back(std::move(line));
    if (limit > 0 && out.size() > limit) out.pop_front();
  }
  return std::vector<std::string>(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()));
}

namespace {

// A kill -9 can cut the line being written (the file is appended without fsync). Appending after a
// cut line would leave a line no reader can parse in the middle of the file, so the cut part goes:
// the file is truncated after its last newline. What it held was never evidence (the transparency
// log is) and the record it was is also in an inference.batch entry when [audit] is on.
Status cut_torn_tail(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return {StatusCode::kIoError, fmt::format("inference log '{}': {}", file.string(), ec.message())};
  if (size == 0) return {};
  std::ifstream in(file, std::ios::binary);
  // Scan back in blocks for the last newline (a record line is at most a few kB).
  std::uintmax_t end = size;
  std::string block;
  while (end > 0) {
    const std::uintmax_t start = end > 4096 ? end - 4096 : 0;
    block.resize(static_cast<std::size_t>(end - start));
    in.seekg(static_cast<std::streamoff>(start));
    if (!in.read(block.data(), static_cast<std::streamsize>(block.size())))
      return {StatusCode::kIoError, fmt::format("inference log '{}': cannot read its end", file.string())};
    if (const auto nl = block.rfind('\n'); nl != std::string::npos) {
      end = start + nl + 1;
      break;
    }
    end = start;
  }
  if (end == size) return {};
  std::filesystem::resize_file(file, end, ec);
  if (ec) return {StatusCode::kIoError, fmt::format("inference log '{}': {}", file.string(), ec.message())};
  spdlog::warn("inference log '{}': cut {} bytes of a line left unfinished by a crash", file.string(), size - end);
  return {};
}

}  // namespace

Result<std::unique_ptr<InferenceLogWriter>> InferenceLogWriter::open(const std::filesystem::path& file,
                                                                    AuditAppend append, std::size_t max_pending,
                                                                    int flush_interval_ms, std::size_t keep_recent) {
  const bool exists = std::filesystem::exists(file);
  if (exists) {
    std::string first;
    bool whole_line = false;
    {
      std::ifstream in(file);
      std::getline(in, first);
      whole_line = !in.eof();  // getline stopped at a newline
    }
    // A file is ours when its first line is the header, or when a crash cut the header itself;
    // anything else is refused untouched.
    const bool cut_header = !whole_line && header_line().starts_with(first);
    if (!first.empty() && first != header_line() && !cut_header)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("inference log '{}': first line is not the version {} header", file.string(),
                               kInferenceLogVersion));
    if (Status s = cut_torn_tail(file); !s) return error(s);
  }
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::FILE* f = std::fopen(file.c_str(), "ab");
  if (f == nullptr)
    return error(StatusCode::kIoError, fmt::format("inference log '{}': {}", file.string(), std::strerror(errno)));
  if (std::ftell(f) == 0) {
    const std::string h = header_line() + "\n";
    if (std::fwrite(h.data(), 1, h.size(), f) != h.size() || std::fflush(f) != 0) {
      std::fclose(f);
      return error(StatusCode::kIoError, fmt::format("inference log '{}': {}", file.string(), std::strerror(errno)));
    }
  }
  return std::unique_ptr<InferenceLogWriter>(
      new InferenceLogWriter(file, f, std::move(append), max_pending, flush_interval_ms, keep_recent));
}

InferenceLogWriter::InferenceLogWriter(std::filesystem::path path, std::FILE* file, AuditAppend append,
                                       std::size_t max_pending, int flush_interval_ms, std::size_t keep_recent)
    : path_(std::move(path)),
      file_(file),
      append_(std::move(append)),
      max_pending_(max_pending),
      flush_interval_ms_(flush_interval_ms),
      keep_recent_(keep_recent),
      writer_([this] { run(); }) {}

InferenceLogWriter::~InferenceLogWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  (void)flush();
  std::fclose(file_);
}

void InferenceLogWriter::push_switch(const ModelSwitch& event) {
  std::string line = model_switch_json(event);
  std::lock_guard lock(mu_);
  pending_lines_.emplace_back(pending_.size(), std::move(line));
}

void InferenceLogWriter::push(std::vector<InferenceRecord>&& records) {
  std::lock_guard lock(mu_);
  const std::size_t room = max_pending_ > pending_.size() ? max_pending_ - pending_.size() : 0;
  const std::size_t take = std::min(room, records.size());
  stats_.dropped += records.size() - take;
  pending_.insert(pending_.end(), std::make_move_iterator(records.begin()),
                  std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(take)));
}

Status InferenceLogWriter::flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<InferenceRecord> batch;
  std::vector<std::pair<std::size_t, std::string>> lines;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
    lines.swap(pending_lines_);
  }
  if (batch.empty() && lines.empty()) return {};
  std::string text;
  text.reserve(batch.size() * 256);
  std::size_t next_line = 0;
  for (std::size_t i = 0; i <= batch.size(); ++i) {
    for (; next_line < lines.size() && lines[next_line].first <= i; ++next_line) {
      text += lines[next_line].second;
      text.push_back('\n');
    }
    if (i == batch.size()) break;
    append_record_fields(text, batch[i], true);
    text.push_back('\n');
  }
  Status result;
  std::uint64_t entries = 0, errors = 0;
  bool file_ok = true;
  // In steps: each step's pages are copied into the page cache and written back before the next
  // step starts (write_back says why).
  for (std::size_t at = 0; at < text.size() && file_ok; at += kWritebackChunkBytes) {
    const std::size_t n = std::min<std::size_t>(kWritebackChunkBytes, text.size() - at);
    if (std::fwrite(text.data() + at, 1, n, file_) != n || std::fflush(file_) != 0) {
      ++errors;
      file_ok = false;
      result = {StatusCode::kIoError, fmt::format("inference log '{}': {}", path_.string(), std::strerror(errno))};
    } else {
      write_back(static_cast<off_t>(n));
    }
  }
  if (append_ && !batch.empty()) {
    const auto bodies = inference_batch_bodies(batch);
    if (Status s = append_(bodies); s) entries = bodies.size();
    else {
      ++errors;
      result = s;
    }
  }
  {
    // Moved, not copied: the batch is done with. The newest keep_recent_ stay for recent().
    std::lock_guard recent_lock(recent_mu_);
    const std::size_t skip = batch.size() > keep_recent_ ? batch.size() - keep_recent_ : 0;
    for (std::size_t i = skip; i < batch.size(); ++i) recent_.push_back(std::move(batch[i]));
    while (recent_.size() > keep_recent_) recent_.pop_front();
  }
  std::lock_guard lock(mu_);
  if (file_ok) stats_.written += batch.size();
  stats_.audit_entries += entries;
  stats_.write_errors += errors;
  return result;
}

// The last `bytes` written (at most one step) go to the disk now, and this thread waits for them.
// At 100,000 runs/s the file grows by ~30 MB/s. Written as one 6-8 MB write() per 200 ms flush
// and then started as one sync_file_range (as before), each flush put that much into the page
// cache and the device queue at once, and the historian's WAL fdatasync on the same disk, which
// ran within 0.4 ms otherwise, took 20-57 ms next to it (bench/RESULTS.md "Models"): the
// end-to-end p99 went from ~10 ms to 50-130 ms once in a 5 s run. In steps of
// kWritebackChunkBytes, at most one step of the log is dirty or in flight at any time. Not a
// durability promise (no fsync: the transparency log is the durable record).
void InferenceLogWriter::write_back(off_t bytes) {
  const int fd = ::fileno(file_);
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  if (end <= 0) return;
  for (off_t at = std::max<off_t>(0, end - bytes); at < end; at += kWritebackChunkBytes) {
    const off_t n = std::min<off_t>(kWritebackChunkBytes, end - at);
    (void)::sync_file_range(fd, at, n, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  }
}

void InferenceLogWriter::run() {
  // Formatting a flush's records (~20,000 at 100,000 runs/s, 6-7 MB of JSON) is a burst of CPU
  // that on a 2-core node competed with the ingest path's threads; the writer only has to keep
  // up on average, so it yields to them (a Linux thread's nice value is its own).
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWriterNice);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    (void)flush();  // counted in write_errors
    lock.lock();
  }
}

InferenceLogStats InferenceLogWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<InferenceRecord> InferenceLogWriter::recent(std::string_view model, TimestampNs from_ns,
                                                        TimestampNs to_ns, std::size_t limit) const {
  std::vector<InferenceRecord> out;
  if (limit == 0) return out;
  std::lock_guard lock(recent_mu_);
  // Newest first, so the scan stops at `limit`; reversed at the end.
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    if (!model.empty() && it->model != model) continue;
    if (it->window_to_ns < from_ns || it->window_to_ns > to_ns) continue;
    out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace resonance::models
