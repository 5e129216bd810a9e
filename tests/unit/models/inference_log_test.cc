#include "resonance/models/inference_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace resonance::models {
namespace {

InferenceRecord record(std::string model, TimestampNs to, double out) {
  InferenceRecord r;
  r.model = std::move(model);
  r.version = "1";
  r.equipment = "s/a/l/cnc-01";
  r.window_from_ns = to - 10;
  r.window_to_ns = to;
  r.window_samples = 3;
  r.input_sha256 = std::string(64, 'e');
  r.outputs = {out};
  r.latency_ns = 1234;
  return r;
}

class TempDir {
 public:
  TempDir() : path(std::filesystem::temp_directory_path() / ("inference_log_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

TEST(InferenceLog, RecordsGoToTheFileAndTheAuditInBoundedBodies) {
  TempDir dir;
  std::vector<std::string> appended;
  {
    auto writer = InferenceLogWriter::open(dir.path / "inference.jsonl", [&](std::span<const std::string> bodies) {
      appended.insert(appended.end(), bodies.begin(), bodies.end());
      return Status::ok();
    });
    ASSERT_TRUE(writer) << writer.error().message();
    std::vector<InferenceRecord> batch;
    for (int i = 0; i < 800; ++i) batch.push_back(record(i < 600 ? "a" : "b", 1000 + i, i));
    (*writer)->push(std::move(batch));
    ASSERT_TRUE((*writer)->flush().is_ok());
    EXPECT_EQ((*writer)->stats().written, 800u);
    EXPECT_EQ((*writer)->stats().audit_entries, appended.size());
  }
  // Bodies stay under the bound, one model version each, and hold every record once.
  std::size_t total = 0;
  for (const auto& body : appended) {
    EXPECT_LE(body.size(), 60'000u);
    const auto j = nlohmann::json::parse(body);
    total += j.at("records").size();
    EXPECT_TRUE(j.at("model") == "a" || j.at("model") == "b");
  }
  EXPECT_EQ(total, 800u);
  EXPECT_GE(appended.size(), 3u);  // 600 records of ~200 bytes do not fit one 60 kB body

  auto b = read_inference_log(dir.path / "inference.jsonl", "b", 0);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->size(), 200u);
  auto last = read_inference_log(dir.path / "inference.jsonl", "a", 2);
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(last->back()).at("to_ns"), 1599);
  EXPECT_EQ(nlohmann::json::parse(last->back()).at("input_sha256"), std::string(64, 'e'));
}

TEST(InferenceLog, ASwitchLineSitsBetweenTheVersionsRecords) {
  TempDir dir;
  {
    auto writer = InferenceLogWriter::open(dir.path / "inference.jsonl", {});
    ASSERT_TRUE(writer);
    auto v2 = record("m", 30, 3.0);
    v2.version = "2";
    (*writer)->push({record("m", 10, 1.0), record("m", 20, 2.0)});
    (*writer)->push_switch({"m", "1", "2", 25});
    (*writer)->push({std::move(v2)});
  }
  auto lines = read_inference_log(dir.path / "inference.jsonl", "m", 0);
  ASSERT_TRUE(lines) << lines.error().message();
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_EQ((*lines)[2], R"({"at_ns":25,"event":"switch","from_version":"1","model":"m","version":"2"})");
  EXPECT_EQ(nlohmann::json::parse((*lines)[1])["version"], "1");
  EXPECT_EQ(nlohmann::json::parse((*lines)[3])["version"], "2");
}

TEST(InferenceLog, ReopenAppendsAndAForeignFileIsRefused) {
  TempDir dir;
  const auto file = dir.path / "inference.jsonl";
  for (int round = 0; round < 2; ++round) {
    auto writer = InferenceLogWriter::open(file, {});
    ASSERT_TRUE(writer) << writer.error().message();
    (*writer)->push({record("a", 10 + round, 1)});
  }
  EXPECT_EQ(read_inference_log(file, "", 0)->size(), 2u);
  std::ofstream(dir.path / "other.jsonl") << "{\"format\":\"something-else\"}\n";
  auto refused = InferenceLogWriter::open(dir.path / "other.jsonl", {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("header"), std::string::npos);
  auto unreadable = read_inference_log(dir.path / "other.jsonl", "", 0);
  ASSERT_FALSE(unreadable);
  EXPECT_NE(unreadable.error().message().find(":1:"), std::string::npos);
}

// A crash can cut the line being written; reopening cuts the unfinished part before appending, so
// every line stays whole and the file stays readable.
TEST(InferenceLog, ReopenCutsALineACrashLeftUnfinished) {
  TempDir dir;
  const auto file = dir.path / "inference.jsonl";
  {
    auto writer = InferenceLogWriter::open(file, {});
    ASSERT_TRUE(writer) << writer.error().message();
    (*writer)->push({record("a", 10, 1)});
  }
  const auto whole = std::filesystem::file_size(file);
  std::ofstream(file, std::ios::app) << R"({"equipment":"s/a/l/cnc-01","from_ns":1,"in)";
  {
    auto writer = InferenceLogWriter::open(file, {});
    ASSERT_TRUE(writer) << writer.error().message();
    EXPECT_EQ(std::filesystem::file_size(file), whole);  // cut before anything is appended
    (*writer)->push({record("a", 11, 0)});
  }
  const auto lines = read_inference_log(file, "", 0);
  ASSERT_TRUE(lines) << lines.error().message();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ(nlohmann::json::parse((*lines)[1]).at("to_ns"), 11);
  // A file cut inside its header line keeps nothing of it and gets a fresh header.
  std::ofstream(dir.path / "cut.jsonl") << R"({"format":"resonance.infer)";
  auto fresh = InferenceLogWriter::open(dir.path / "cut.jsonl", {});
  ASSERT_TRUE(fresh) << fresh.error().message();
  fresh->reset();
  EXPECT_TRUE(read_inference_log(dir.path / "cut.jsonl", "", 0));
}

TEST(InferenceLog, AFullQueueDropsAndCounts) {
  TempDir dir;
  auto writer = InferenceLogWriter::open(dir.path / "i.jsonl", {}, 3, 60'000);
  ASSERT_TRUE(writer);
  (*writer)->push({record("a", 1, 1), record("a", 2, 1), record("a", 3, 1), record("a", 4, 1)});
  EXPECT_EQ((*writer)->stats().dropped, 1u);
}

TEST(InferenceLog, RecordTextIsSortedJsonThatReadsBackExactly) {
  InferenceRecord r = record("m\"odel", 42, 1.0);
  r.equipment = "s/a/l/cnc\\01\n";
  r.outputs = {1.0, 0.1, -2.5e-300, 1e300, std::nan("")};
  const std::string text = inference_record_json(r);
  EXPECT_EQ(text.substr(0, 13), R"({"equipment":)");
  EXPECT_NE(text.find(R"("outputs":[1.0,0.1,-2.5e-300,1e+300,null])"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("model"), "m\"odel");
  EXPECT_EQ(j.at("equipment"), "s/a/l/cnc\\01\n");
  EXPECT_EQ(j.at("outputs")[1].get<double>(), 0.1);
  EXPECT_EQ(j.at("outputs")[2].get<double>(), -2.5e-300);
  EXPECT_EQ(j.at("to_ns"), 42);
  EXPECT_EQ(j.at("latency_ns"), 1234);
  // One record, one text: the keys in nlohmann's (sorted) order, so re-serialising changes nothing
  // but the non-finite value.
  r.outputs = {1.0, 0.25};
  EXPECT_EQ(inference_record_json(r), nlohmann::json::parse(inference_record_json(r)).dump());
}

TEST(InferenceLog, RecentKeepsTheNewestWrittenRecordsAndFilters) {
  TempDir dir;
  auto writer = InferenceLogWriter::open(dir.path / "inference.jsonl", {}, 1'000'000, 200, 100);
  ASSERT_TRUE(writer) << writer.error().message();
  std::vector<InferenceRecord> batch;
  for (int i = 0; i < 150; ++i) batch.push_back(record(i % 2 == 0 ? "even" : "odd", 1000 + i, i));
  (*writer)->push(std::move(batch));
  EXPECT_TRUE((*writer)->recent("", 0, INT64_MAX, 1000).empty());  // pending, not written yet
  ASSERT_TRUE((*writer)->flush().is_ok());
  const auto all = (*writer)->recent("", INT64_MIN, INT64_MAX, 1000);
  ASSERT_EQ(all.size(), 100u);  // keep_recent
  EXPECT_EQ(all.front().window_to_ns, 1050);
  EXPECT_EQ(all.back().window_to_ns, 1149);
  const auto odd = (*writer)->recent("odd", 1100, 1120, 3);
  ASSERT_EQ(odd.size(), 3u);  // the newest three odd ones in [1100, 1120], oldest first
  EXPECT_EQ(odd[0].window_to_ns, 1115);
  EXPECT_EQ(odd[2].window_to_ns, 1119);
  EXPECT_TRUE((*writer)->recent("none", INT64_MIN, INT64_MAX, 10).empty());
}

}  // namespace
}  // namespace resonance::models
