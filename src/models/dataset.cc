#include "resonance/models/dataset.h"

#include <fmt/format.h>
#include <sodium.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace resonance::models {

namespace {

constexpr std::string_view kMagic = "RSDS";
constexpr std::uint16_t kVersion = 1;

class Writer {
 public:
  void u16(std::uint16_t v) { put_le(v, 2); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f32(float v) {
    if (v == 0.0f) v = 0.0f;  // -0 and +0 encode alike: one dataset, one encoding
    u32(std::bit_cast<std::uint32_t>(v));
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  std::string take() { return std::move(out_); }

 private:
  void put_le(std::uint64_t v, int bytes) {
    for (int b = 0; b < bytes; ++b) out_.push_back(static_cast<char>((v >> (8 * b)) & 0xFF));
  }
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view source) : bytes_(bytes), source_(source) {}
  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::size_t pos() const { return pos_; }

  Status need(std::size_t n, std::string_view what) const {
    if (remaining() < n) {
      return {StatusCode::kCorruption,
              fmt::format("{}: truncated at byte {} reading {} ({} bytes needed, {} left)", source_, pos_, what, n,
                          remaining())};
    }
    return {};
  }
  Result<std::uint64_t> le(int bytes, std::string_view what) {
    if (Status s = need(static_cast<std::size_t>(bytes), what); !s) return std::unexpected(s);
    std::uint64_t v = 0;
    for (int b = 0; b < bytes; ++b) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + static_cast<std::size_t>(b)])) << (8 * b);
    }
    pos_ += static_cast<std::size_t>(bytes);
    return v;
  }
  Result<std::string> str(std::string_view what) {
    auto n = le(4, what);
    if (!n) return std::unexpected(n.error());
    if (Status s = need(*n, what); !s) return std::unexpected(s);
    std::string out(bytes_.substr(pos_, *n));
    pos_ += *n;
    return out;
  }
  Result<float> f32(std::string_view what) {
    const std::size_t at = pos_;
    auto v = le(4, what);
    if (!v) return std::unexpected(v.error());
    const float f = std::bit_cast<float>(static_cast<std::uint32_t>(*v));
    if (!std::isfinite(f) || *v == 0x80000000u) {
      return error(StatusCode::kCorruption, fmt::format("{}: byte {}: {} is not a canonical finite float", source_, at, what));
    }
    return f;
  }
  Status error_at(std::string message) const {
    return {StatusCode::kCorruption, fmt::format("{}: byte {}: {}", source_, pos_, message)};
  }

 private:
  std::string_view bytes_;
  std::string_view source_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  // By table, not fmt: live inference hashes every window, and 32 format calls per hash showed in
  // its profile.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * sizeof digest, '0');
  for (std::size_t i = 0; i < sizeof digest; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

Status Dataset::validate() const {
  if (rows == 0) return {StatusCode::kInvalidArgument, "dataset is empty (no rows)"};
  if (feature_names.empty()) return {StatusCode::kInvalidArgument, "dataset has no feature columns"};
  if (features.size() != rows * cols()) {
    return {StatusCode::kInternal, fmt::format("dataset has {} values for {} rows × {} features", features.size(), rows, cols())};
  }
  if (labels.size() != rows) return {StatusCode::kInternal, fmt::format("dataset has {} labels for {} rows", labels.size(), rows)};
  if (!group_name.empty() && groups.size() != rows) {
    return {StatusCode::kInternal, fmt::format("dataset has {} groups for {} rows", groups.size(), rows)};
  }
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols(); ++c) {
      if (!std::isfinite(features[r * cols() + c])) {
        return {StatusCode::kInvalidArgument, fmt::format("row {} feature '{}' is not a finite number", r + 1, feature_names[c])};
      }
    }
    if (!std::isfinite(labels[r])) {
      return {StatusCode::kInvalidArgument, fmt::format("row {} label '{}' is not a finite number", r + 1, label_name)};
    }
  }
  return {};
}

Result<Dataset> dataset_from_table(const Table& table, const DatasetSpec& spec, std::string_view file_sha256) {
  if (spec.label.empty()) return error(StatusCode::kInvalidArgument, "dataset needs a label column (--label)");
  Dataset ds;
  auto label = table.number_column(spec.label);
  if (!label) return std::unexpected(label.error());
  ds.label_name = spec.label;
  const Column* group = nullptr;
  if (!spec.group.empty()) {
    auto g = table.number_column(spec.group);
    if (!g) return std::unexpected(g.error());
    group = *g;
    ds.group_name = spec.group;
  }
  auto listed = [](const std::vector<std::string>& names, std::string_view n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const auto& name : spec.exclude) {
    if (auto c = table.column(name); !c) return std::unexpected(c.error());
  }
  std::vector<const Column*> inputs;
  if (spec.features.empty()) {
    for (const auto& c : table.columns) {
      if (c.name == spec.label || c.name == spec.group || listed(spec.exclude, c.name)) continue;
      if (c.type == ColumnType::kNumber || listed(spec.categorical, c.name)) inputs.push_back(&c);
    }
  } else {
    for (const auto& name : spec.features) {
      auto c = table.column(name);
      if (!c) return std::unexpected(c.error());
      if (name == spec.label || listed(spec.exclude, name)) {
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: column '{}' cannot be an input: it is the label or excluded", table.source, name));
      }
      if ((*c)->type == ColumnType::kText && !listed(spec.categorical, name)) {
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: column '{}' holds text; list it as categorical to encode it", table.source, name));
      }
      inputs.push_back(*c);
    }
  }
  for (const auto& name : spec.categorical) {
    auto c = table.column(name);
    if (!c) return std::unexpected(c.error());
    if ((*c)->type != ColumnType::kText) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}: categorical column '{}' holds numbers", table.source, name));
    }
  }
  if (inputs.empty()) return error(StatusCode::kInvalidArgument, fmt::format("{}: no input columns left", table.source));

  ds.rows = table.rows;
  std::string transform = "columns";
  std::vector<std::map<std::string, float>> codes(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ds.feature_names.push_back(inputs[i]->name);
    if (inputs[i]->type == ColumnType::kText) {
      std::set<std::string> values(inputs[i]->texts.begin(), inputs[i]->texts.end());
      std::string mapping;
      float code = 0;
      for (const auto& v : values) {
        codes[i][v] = code;
        mapping += fmt::format("{}{}={}", mapping.empty() ? "" : ",", v, code);
        code += 1;
      }
      transform += fmt::format("; {}: {}", inputs[i]->name, mapping);
    }
  }
  ds.features.resize(ds.rows * inputs.size());
  for (std::size_t r = 0; r < ds.rows; ++r) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Column& c = *inputs[i];
      ds.features[r * inputs.size() + i] =
          c.type == ColumnType::kNumber ? static_cast<float>(c.numbers[r]) : codes[i][c.texts[r]];
    }
  }
  ds.labels.reserve(ds.rows);
  for (double v : (*label)->numbers) ds.labels.push_back(static_cast<float>(v));
  if (group != nullptr) {
    for (double v : group->numbers) {
      if (v != std::floor(v)) {
        return error(StatusCode::kInvalidArgument, fmt::format("{}: group column '{}' holds a non-integer {}", table.source, spec.group, v));
      }
      ds.groups.push_back(static_cast<std::int64_t>(v));
    }
  }
  ds.lineage.sources.push_back({"file", std::filesystem::path(table.source).filename().string(), std::string(file_sha256), 0, 0});
  ds.lineage.transform = transform;
  if (Status s = ds.validate(); !s) {
    return error(s.code(), fmt::format("{}: {}", table.source, s.message()));
  }
  return ds;
}

std::string encode_dataset(const Dataset& ds) {
  Writer w;
  w.raw(kMagic);
  w.u16(kVersion);
  w.str(ds.label_name);
  w.str(ds.group_name);
  w.u32(static_cast<std::uint32_t>(ds.feature_names.size()));
  for (const auto& n : ds.feature_names) w.str(n);
  w.u64(ds.rows);
  for (float f : ds.features) w.f32(f);
  for (float f : ds.labels) w.f32(f);
  if (!ds.group_name.empty()) {
    for (auto g : ds.groups) w.i64(g);
  }
  w.str(ds.lineage.transform);
  w.u32(static_cast<std::uint32_t>(ds.lineage.sources.size()));
  for (const auto& s : ds.lineage.sources) {
    w.str(s.kind);
    w.str(s.name);
    w.str(s.sha256);
    w.i64(s.from_ns);
    w.i64(s.to_ns);
  }
  return w.take();
}

std::string dataset_id(const Dataset& dataset) { return sha256_hex(encode_dataset(dataset)); }

Result<Dataset> decode_dataset(std::string_view bytes, std::string_view source) {
  Reader r(bytes, source);
  if (!bytes.starts_with(kMagic)) {
    return error(StatusCode::kCorruption, fmt::format("{}: not a dataset file (magic 'RSDS' missing)", source));
  }
  r.le(4, "magic").value();  // checked above
  auto version = r.le(2, "version");
  if (!version) return std::unexpected(version.error());
  if (*version != kVersion) {
    return error(StatusCode::kCorruption, fmt::format("{}: dataset format version {} (this build reads {})", source, *version, kVersion));
  }
  Dataset ds;
  auto label = r.str("label name");
  if (!label) return std::unexpected(label.error());
  ds.label_name = std::move(*label);
  auto group = r.str("group name");
  if (!group) return std::unexpected(group.error());
  ds.group_name = std::move(*group);
  auto nfeat = r.le(4, "feature count");
  if (!nfeat) return std::unexpected(nfeat.error());
  if (*nfeat == 0) return error(r.error_at("no features"));
  if (*nfeat > r.remaining() / 4) return error(r.error_at(fmt::format("feature count {} exceeds the file", *nfeat)));
  for (std::uint64_t i = 0; i < *nfeat; ++i) {
    auto n = r.str("feature name");
    if (!n) return std::unexpected(n.error());
    ds.feature_names.push_back(std::move(*n));
  }
  auto rows = r.le(8, "row count");
  if (!rows) return std::unexpected(rows.error());
  // Every row needs (features + label) × 4 bytes, so the count is bounded by the file size.
  const std::uint64_t row_bytes = (*nfeat + 1) * 4 + (ds.group_name.empty() ? 0 : 8);
  if (*rows == 0 || *rows > r.remaining() / row_bytes) {
    return error(r.error_at(fmt::format("row count {} does not fit the file", *rows)));
  }
  ds.rows = *rows;
  ds.features.reserve(ds.rows * *nfeat);
  for (std::uint64_t i = 0; i < ds.rows * *nfeat; ++i) {
    auto f = r.f32("feature value");
    if (!f) return std::unexpected(f.error());
    ds.features.push_back(*f);
  }
  for (std::uint64_t i = 0; i < ds.rows; ++i) {
    auto f = r.f32("label");
    if (!f) return std::unexpected(f.error());
    ds.labels.push_back(*f);
  }
  if (!ds.group_name.empty()) {
    for (std::uint64_t i = 0; i < ds.rows; ++i) {
      auto g = r.le(8, "group");
      if (!g) return std::unexpected(g.error());
      ds.groups.push_back(static_cast<std::int64_t>(*g));
    }
  }
  auto transform = r.str("lineage transform");
  if (!transform) return std::unexpected(transform.error());
  ds.lineage.transform = std::move(*transform);
  auto nsrc = r.le(4, "lineage source count");
  if (!nsrc) return std::unexpected(nsrc.error());
  if (*nsrc > r.remaining() / 28) return error(r.error_at(fmt::format("lineage source count {} exceeds the file", *nsrc)));
  for (std::uint64_t i = 0; i < *nsrc; ++i) {
    SourceRef s;
    auto kind = r.str("source kind");
    if (!kind) return std::unexpected(kind.error());
    auto name = r.str("source name");
    if (!name) return std::unexpected(name.error());
    auto sha = r.str("source sha256");
    if (!sha) return std::unexpected(sha.error());
    auto from = r.le(8, "source from_ns");
    if (!from) return std::unexpected(from.error());
    auto to = r.le(8, "source to_ns");
    if (!to) return std::unexpected(to.error());
    ds.lineage.sources.push_back({std::move(*kind), std::move(*name), std::move(*sha), static_cast<std::int64_t>(*from),
                                  static_cast<std::int64_t>(*to)});
  }
  if (r.remaining() != 0) return error(r.error_at(fmt::format("{} bytes after the end of the dataset", r.remaining())));
  return ds;
}

Result<std::string> DatasetStore::put(const Dataset& dataset) {
  if (Status s = dataset.validate(); !s) return std::unexpected(s);
  const std::string bytes = encode_dataset(dataset);
  const std::string id = sha256_hex(bytes);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return error(StatusCode::kIoError, fmt::format("{}: cannot create ({})", dir_.string(), ec.message()));
  const auto path = dir_ / (id + ".rds");
  // Immutable: same id, same bytes. A file left garbled by a crash must not shadow the dataset
  // for ever, so an existing file counts only when its bytes hash to its name.
  if (std::filesystem::exists(path)) {
    std::ifstream in(path, std::ios::binary);
    const std::string existing((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (sha256_hex(existing) == id) return id;
  }
  const auto tmp = dir_ / (id + ".rds.tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return error(StatusCode::kIoError, fmt::format("{}: cannot write ({})", tmp.string(), std::strerror(errno)));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  // The dataset is acknowledged (its id returned) only once file and directory entry are on disk.
  const bool ok = written == bytes.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return error(StatusCode::kIoError, fmt::format("{}: write or fsync failed ({})", tmp.string(), std::strerror(errno)));
  std::filesystem::rename(tmp, path, ec);
  if (ec) return error(StatusCode::kIoError, fmt::format("{}: cannot rename ({})", path.string(), ec.message()));
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool dir_synced = dfd >= 0 && ::fsync(dfd) == 0;
  if (dfd >= 0) ::close(dfd);
  if (!dir_synced) return error(StatusCode::kIoError, fmt::format("{}: cannot sync the directory", dir_.string()));
  return id;
}

Result<std::string> DatasetStore::resolve(std::string_view id_or_prefix) const {
  if (id_or_prefix.size() < 8) {
    return error(StatusCode::kInvalidArgument, fmt::format("dataset id '{}' is too short (8+ hex characters)", id_or_prefix));
  }
  std::vector<std::string> matches;
  for (const auto& id : list()) {
    if (id.starts_with(id_or_prefix)) matches.push_back(id);
  }
  if (matches.empty()) return error(StatusCode::kNotFound, fmt::format("no dataset '{}' in {}", id_or_prefix, dir_.string()));
  if (matches.size() > 1) return error(StatusCode::kInvalidArgument, fmt::format("dataset id '{}' is ambiguous in {}", id_or_prefix, dir_.string()));
  return matches.front();
}

Result<Dataset> DatasetStore::get(std::string_view id_or_prefix) const {
  auto id = resolve(id_or_prefix);
  if (!id) return std::unexpected(id.error());
  const auto path = dir_ / (*id + ".rds");
  auto bytes = read_file_bytes(path);
  if (!bytes) return std::unexpected(bytes.error());
  if (sha256_hex(*bytes) != *id) {
    return error(StatusCode::kCorruption, fmt::format("{}: content does not match its id (file altered)", path.string()));
  }
  return decode_dataset(*bytes, path.string());
}

std::vector<std::string> DatasetStore::list() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() == 64 + 4 && name.ends_with(".rds")) ids.push_back(name.substr(0, 64));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace resonance::models
