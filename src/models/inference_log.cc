#include "resonance/models/inference_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>

namespace resonance::models {

namespace {

using nlohmann::json;

json record_fields(const InferenceRecord& r) {
  return json{{"equipment", r.equipment},     {"from_ns", r.window_from_ns}, {"to_ns", r.window_to_ns},
              {"samples", r.window_samples},  {"input_sha256", r.input_sha256}, {"outputs", r.outputs},
              {"latency_ns", r.latency_ns}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string header_line() {
  return dump(json{{"format", "resonance.inference-log"}, {"version", kInferenceLogVersion}});
}

}  // namespace

std::string inference_record_json(const InferenceRecord& r) {
  json j = record_fields(r);
  j["model"] = r.model;
  j["version"] = r.version;
  return dump(j);  // nlohmann::json keeps keys sorted: one text per record
}

std::vector<std::string> inference_batch_bodies(std::span<const InferenceRecord> records, std::size_t max_body_bytes) {
  std::vector<std::string> bodies;
  std::size_t i = 0;
  while (i < records.size()) {
    json body{{"model", records[i].model}, {"version", records[i].version}, {"records", json::array()}};
    std::size_t size = dump(body).size();
    std::size_t k = i;
    while (k < records.size() && records[k].model == records[i].model && records[k].version == records[i].version) {
      json one = record_fields(records[k]);
      const std::size_t add = dump(one).size() + 1;
      if (k > i && size + add > max_body_bytes) break;  // one record always fits: its fields are bounded
      size += add;
      body["records"].push_back(std::move(one));
      ++k;
    }
    bodies.push_back(dump(body));
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

Result<std::unique_ptr<InferenceLogWriter>> InferenceLogWriter::open(const std::filesystem::path& file,
                                                                    AuditAppend append, std::size_t max_pending,
                                                                    int flush_interval_ms) {
  const bool exists = std::filesystem::exists(file);
  if (exists) {
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    if (!first.empty() && first != header_line())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("inference log '{}': first line is not the version {} header", file.string(),
                               kInferenceLogVersion));
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
      new InferenceLogWriter(file, f, std::move(append), max_pending, flush_interval_ms));
}

InferenceLogWriter::InferenceLogWriter(std::filesystem::path path, std::FILE* file, AuditAppend append,
                                       std::size_t max_pending, int flush_interval_ms)
    : path_(std::move(path)),
      file_(file),
      append_(std::move(append)),
      max_pending_(max_pending),
      flush_interval_ms_(flush_interval_ms),
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
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  std::string text;
  for (const auto& r : batch) text += inference_record_json(r) + "\n";
  Status result;
  std::uint64_t entries = 0, errors = 0;
  bool file_ok = true;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    ++errors;
    file_ok = false;
    result = {StatusCode::kIoError, fmt::format("inference log '{}': {}", path_.string(), std::strerror(errno))};
  }
  if (append_) {
    const auto bodies = inference_batch_bodies(batch);
    if (Status s = append_(bodies); s) entries = bodies.size();
    else {
      ++errors;
      result = s;
    }
  }
  std::lock_guard lock(mu_);
  if (file_ok) stats_.written += batch.size();
  stats_.audit_entries += entries;
  stats_.write_errors += errors;
  return result;
}

void InferenceLogWriter::run() {
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

}  // namespace resonance::models
