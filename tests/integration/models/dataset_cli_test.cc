// `resonance dataset create --from-historian` and `resonance dataset export`, run as an operator
// would: the real binary against a node data directory written through the real catalog and
// historian, and a real policy file.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "resonance/core/catalog.h"
#include "resonance/core/dir_lock.h"
#include "resonance/historian/historian.h"
#include "resonance/models/dataset.h"
#include "resonance/models/table.h"

namespace resonance::models {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  CliRun r;
  FILE* p = ::popen((std::string(RESONANCE_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The last line of the output: the commands print the id (or the result) last.
std::string last_line(const std::string& text) {
  std::string line, last;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kBase = 1'793'491'200 * kSecond;  // 2026-11-01T00:00:00Z
const std::string kLoad = "plant/a/l1/press-01/load";
const std::string kTemperature = "plant/a/l1/press-01/temperature";
const std::string kOverload = "plant/a/l1/press-01/overload";
const std::string kRecipe = "plant/a/l1/press-01/recipe_speed";

class DatasetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("dataset_cli_{}_{}", ::getpid(),
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "node");
    store_ = (dir_ / "store").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A node data directory as a node leaves it: catalog.sqlite and historian/. Ten seconds of
  // load (i), temperature (20 + i, but no sample at 3 s) and overload (1 once the load passes 5).
  void write_node_data() {
    auto catalog = SeriesCatalog::open(dir_ / "node" / "catalog.sqlite");
    ASSERT_TRUE(catalog) << catalog.error().message();
    std::vector<SeriesId> ids;
    for (const auto& path : {kLoad, kTemperature, kOverload}) {
      auto id = (*catalog)->resolve(path);
      ASSERT_TRUE(id) << id.error().message();
      ids.push_back(*id);
    }
    HistorianOptions options;
    options.dir = dir_ / "node" / "historian";
    options.durability = Durability::kNone;
    auto h = open_historian(options);
    ASSERT_TRUE(h) << h.error().message();
    SampleBatch batch;
    for (int i = 0; i < 10; ++i) {
      const std::int64_t ts = kBase + i * kSecond;
      batch.samples.push_back(Sample{.series = ids[0], .ts_ns = ts, .value = double(i)});
      if (i != 3) batch.samples.push_back(Sample{.series = ids[1], .ts_ns = ts, .value = 20.0 + i});
      batch.samples.push_back(Sample{.series = ids[2], .ts_ns = ts, .value = i > 5 ? 1.0 : 0.0});
    }
    auto done = std::make_shared<std::promise<Status>>();
    auto future = done->get_future();
    ASSERT_EQ((*h)->submit(std::move(batch), [done](const Status& s) { done->set_value(s); }), Admission::kAccepted);
    ASSERT_TRUE(future.get().is_ok());
    (*h)->close();
  }

  std::string create_args(const std::string& extra = "", const std::string& label = kOverload,
                          const std::string& step = "1s") const {
    return fmt::format("dataset --store {} create --from-historian {} --series {} --series {} --label {} "
                       "--from 2026-11-01T00:00:00Z --to 2026-11-01T00:00:10Z --step {} {}",
                       store_, (dir_ / "node").string(), kLoad, kTemperature, label, step, extra);
  }

  fs::path dir_;
  std::string store_;
};

TEST_F(DatasetCli, FromHistorianGivesRowsAndSeriesLineage) {
  write_node_data();
  // With a staleness below the step the grid point at 3 s has no temperature: 9 rows.
  const CliRun r = run(create_args("--max-staleness 500ms"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("9 rows × 2 features, label '" + kOverload + "' (1 of 10 grid points skipped"), std::string::npos)
      << r.out;
  const std::string id = last_line(r.out);
  auto ds = DatasetStore(store_).get(id);
  ASSERT_TRUE(ds) << ds.error().message() << "\n" << r.out;
  ASSERT_EQ(ds->rows, 9u);
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{kLoad, kTemperature}));
  // Row 6 is the grid point at 7 s (3 s was skipped).
  EXPECT_FLOAT_EQ(ds->row(6)[0], 7.0f);
  EXPECT_FLOAT_EQ(ds->row(6)[1], 27.0f);
  EXPECT_FLOAT_EQ(ds->labels[6], 1.0f);
  EXPECT_FLOAT_EQ(ds->labels[2], 0.0f);
  ASSERT_EQ(ds->lineage.sources.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(ds->lineage.sources[k].kind, "series");
    EXPECT_EQ(ds->lineage.sources[k].from_ns, kBase);
    EXPECT_EQ(ds->lineage.sources[k].to_ns, kBase + 10 * kSecond);
  }
  EXPECT_EQ(ds->lineage.sources[2].name, kOverload);
  EXPECT_NE(ds->lineage.transform.find("step_ns=1000000000"), std::string::npos) << ds->lineage.transform;
  EXPECT_NE(ds->lineage.transform.find("max_staleness_ns=500000000"), std::string::npos) << ds->lineage.transform;

  // Carrying the last value forward for up to a step fills the gap: 10 rows, another dataset.
  const CliRun filled = run(create_args());
  ASSERT_EQ(filled.code, 0) << filled.out;
  auto all = DatasetStore(store_).get(last_line(filled.out));
  ASSERT_TRUE(all) << filled.out;
  EXPECT_EQ(all->rows, 10u);
  EXPECT_FLOAT_EQ(all->row(3)[1], 22.0f);
}

TEST_F(DatasetCli, FromHistorianRefusesWhileANodeHoldsTheDataDirectory) {
  write_node_data();
  auto lock = DirLock::acquire(dir_ / "node");
  ASSERT_TRUE(lock) << lock.error().message();
  const CliRun r = run(create_args());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is in use by another resonance process (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(store_)) << "nothing may be written while refusing";
}

TEST_F(DatasetCli, FromHistorianBadInputsSayWhatAndWhere) {
  write_node_data();
  const std::string node = (dir_ / "node").string();
  const std::pair<std::string, std::string> cases[] = {
      {create_args("--series plant/a/l1/press-01/nope"),
       "--series 'plant/a/l1/press-01/nope': no such series in " + node + "/catalog.sqlite (3 series known)"},
      {fmt::format("dataset --store {} create --from-historian {} --series {} --label {} --from 2026-11-01T00:00:00Z "
                   "--to 2026-11-01T00:00:10Z",
                   store_, (dir_ / "missing").string(), kLoad, kOverload),
       "not a node data directory (expected catalog.sqlite and historian/ in it"},
      {create_args("", kOverload, "1x"), "--step '1x': expected a duration > 0"},
      {fmt::format("dataset --store {} create --from-historian {} --series {} --label {} --from 2026-11-01T00:00:10Z "
                   "--to 2026-11-01T00:00:00Z",
                   store_, node, kLoad, kOverload),
       "--to 2026-11-01T00:00:00Z is not after --from 2026-11-01T00:00:10Z"},
      // An empty range: the error says which range had no complete row.
      {fmt::format("dataset --store {} create --from-historian {} --series {} --label {} --from 2026-12-01T00:00:00Z "
                   "--to 2026-12-01T00:00:10Z",
                   store_, node, kLoad, kOverload),
       "empty dataset: none of the 10 grid points in ["},
      {create_args("", "plant/a/l1"), "--label 'plant/a/l1': "},
  };
  for (const auto& [args, message] : cases) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << args << "\n" << r.out;
  }
}

// --- export through the egress gate ---

constexpr const char* kPolicy = R"(schema_version = 1
kind = "policy"
version = "dataset-export-test"

[node]
jurisdiction = "CN"

[[label]]
pattern = "plant/**"
grade = "general"
personal = "none"
trade_secret = false
sharing = "green"

[[label]]
pattern = "plant/*/*/*/recipe_*"
trade_secret = true

[[destination]]
id = "analytics-cn"
jurisdiction = "CN"
purposes = ["training"]

[[destination]]
id = "vendor-de"
jurisdiction = "DE"
max_sharing = "amber"
)";

Dataset small_dataset(std::vector<std::string> series) {
  Dataset ds;
  ds.feature_names = {series[0]};
  ds.label_name = series.back();
  ds.rows = 2;
  ds.features = {1.0f, 2.0f};
  ds.labels = {0.0f, 1.0f};
  for (const auto& s : series) ds.lineage.sources.push_back({"series", s, "", kBase, kBase + 10 * kSecond});
  ds.lineage.transform = "test";
  return ds;
}

TEST_F(DatasetCli, ExportIsDecidedByTheGateAndADeniedDestinationReceivesNothing) {
  std::ofstream(dir_ / "policy.toml") << kPolicy;
  DatasetStore store(store_);
  const auto plain = store.put(small_dataset({kLoad, kOverload}));
  ASSERT_TRUE(plain) << plain.error().message();
  // One input series is a trade secret: the dataset inherits it.
  const auto secret = store.put(small_dataset({kLoad, kRecipe, kOverload}));
  ASSERT_TRUE(secret) << secret.error().message();

  struct Case {
    std::string name, dataset, destination, purpose;
    bool allowed;
    std::string rule;
  };
  const Case cases[] = {
      {"domestic_training", *plain, "analytics-cn", "training", true, "allow"},
      {"abroad_any_purpose", *plain, "vendor-de", "maintenance", true, "allow"},
      {"undeclared_destination", *plain, "somewhere", "training", false, "deny.destination.unknown"},
      {"purpose_not_declared", *plain, "analytics-cn", "marketing", false, "deny.destination.purpose"},
      {"trade_secret_inherited", *secret, "vendor-de", "maintenance", false, "deny.trade_secret"},
      {"trade_secret_domestic", *secret, "analytics-cn", "training", false, "deny.trade_secret"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path out = dir_ / (c.name + ".rds");
    const CliRun r = run(fmt::format("dataset --store {} export {} --destination {} --purpose {} --policy {} --out {}", store_,
                                  c.dataset, c.destination, c.purpose, (dir_ / "policy.toml").string(), out.string()));
    if (c.allowed) {
      ASSERT_EQ(r.code, 0) << r.out;
      EXPECT_NE(r.out.find("allowed (" + c.rule), std::string::npos) << r.out;
      auto sent = read_file_bytes(out);
      ASSERT_TRUE(sent) << r.out;
      auto stored = read_file_bytes(fs::path(store_) / (c.dataset + ".rds"));
      ASSERT_TRUE(stored) << stored.error().message();
      EXPECT_EQ(*sent, *stored);
      EXPECT_EQ(sha256_hex(*sent), c.dataset);
    } else {
      EXPECT_EQ(r.code, 1) << r.out;
      EXPECT_NE(r.out.find("denied: " + c.rule + ": "), std::string::npos) << r.out;
      EXPECT_FALSE(fs::exists(out)) << "a denied destination must receive nothing";
    }
  }
  // No partial files either.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".partial-"), std::string::npos) << entry.path();
  }
}

TEST_F(DatasetCli, ExportDecisionsGoToTheAuditLogBeforeAnyByteLeaves) {
  std::ofstream(dir_ / "policy.toml") << kPolicy;
  const auto id = DatasetStore(store_).put(small_dataset({kLoad, kOverload}));
  ASSERT_TRUE(id);
  const std::string key = (dir_ / "key").string();
  ASSERT_EQ(run("audit keygen --name test.example/node --out " + key).code, 0);
  const std::string audit = (dir_ / "audit").string();
  const std::string common = fmt::format("dataset --store {} export {} --policy {} --audit-dir {} --audit-key {}.key",
                                         store_, *id, (dir_ / "policy.toml").string(), audit, key);
  const CliRun denied = run(common + " --destination somewhere --purpose training --out " + (dir_ / "a.rds").string());
  EXPECT_EQ(denied.code, 1) << denied.out;
  const CliRun allowed = run(common + " --destination analytics-cn --purpose training --out " + (dir_ / "b.rds").string());
  EXPECT_EQ(allowed.code, 0) << allowed.out;
  EXPECT_FALSE(fs::exists(dir_ / "a.rds"));
  EXPECT_TRUE(fs::exists(dir_ / "b.rds"));

  const CliRun verify = run(fmt::format("audit verify {} --key @{}.vkey", audit, key));
  ASSERT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find("ok — 2 entries"), std::string::npos) << verify.out;
  // Both decisions, with their rules and the dataset's scope, are in the log's entry bundles.
  std::string bundles;
  for (const auto& entry : fs::recursive_directory_iterator(audit)) {
    if (entry.is_regular_file()) bundles += read_file_bytes(entry.path()).value_or("");
  }
  EXPECT_NE(bundles.find("deny.destination.unknown"), std::string::npos);
  EXPECT_NE(bundles.find(R"("rule":"allow")"), std::string::npos);
  EXPECT_NE(bundles.find("dataset:" + *id), std::string::npos);

  // The key without the directory (or the other way round) is a usage error, and writes nothing.
  const CliRun half = run(fmt::format("dataset --store {} export {} --policy {} --audit-dir {} --destination analytics-cn "
                                   "--purpose training --out {}",
                                   store_, *id, (dir_ / "policy.toml").string(), audit, (dir_ / "c.rds").string()));
  EXPECT_EQ(half.code, 2) << half.out;
  EXPECT_FALSE(fs::exists(dir_ / "c.rds"));
}

// --- ONNX manifests on the model commands ---

TEST_F(DatasetCli, OnnxManifestValidatesAndEvaluatesOnADataset) {
  // ONNX's ArgMax test model (over each row, keepdims) as a binary classifier of two features:
  // it answers 1 exactly when b > a. The labels agree except on the last row (a false positive).
  const fs::path onnx = "/usr/share/libonnx-testdata/data/node/test_argmax_keepdims_example/model.onnx";
  ASSERT_TRUE(fs::exists(onnx)) << "install libonnx-testdata (scripts/setup --test)";
  const fs::path model_dir = dir_ / "argmax";
  fs::create_directories(model_dir);
  fs::copy_file(onnx, model_dir / "model.onnx");

  Dataset ds;
  ds.feature_names = {"a", "b"};
  ds.label_name = "b_larger";
  const float rows[][3] = {{1, 2, 1}, {3, 1, 0}, {0.5f, 0.2f, 0}, {2, 9, 1}, {7, 3, 0}, {4, 5, 0}};
  for (const auto& r : rows) {
    ds.features.insert(ds.features.end(), {r[0], r[1]});
    ds.labels.push_back(r[2]);
  }
  ds.rows = std::size(rows);
  ds.lineage.transform = "test";
  const auto id = DatasetStore(fs::path(store_) / "datasets").put(ds);
  ASSERT_TRUE(id) << id.error().message();

  const std::string sha = sha256_hex(read_file_bytes(model_dir / "model.onnx").value());
  const std::string manifest = fmt::format(R"({{"manifest_version":1,"name":"argmax","version":"1",
    "interface":"quality_prediction","backend":"onnx","task":"binary",
    "inputs":[{{"name":"a","category":"cnc","signal":"tool_wear"}},{{"name":"b","category":"cnc","signal":"tool_wear"}}],
    "outputs":[{{"name":"predicted_good_probability","type":"double"}}],
    "files":[{{"path":"model.onnx","sha256":"{}"}}],
    "onnx":{{"file":"model.onnx","input_shape":[-1,2]}},
    "lineage":{{"dataset_id":"{}","code_version":"test"}}}})",
                                           sha, *id);
  std::ofstream(model_dir / "manifest.json") << manifest;
  const std::string manifest_file = (model_dir / "manifest.json").string();

  const CliRun valid = run("model validate " + manifest_file);
  ASSERT_EQ(valid.code, 0) << valid.out;
  EXPECT_NE(valid.out.find("ONNX network runs: input [1, 2] → output [1, 1]"), std::string::npos) << valid.out;

  const CliRun eval = run(fmt::format("model --store {} evaluate --dataset {} --manifest {} --json", store_, *id, manifest_file));
  ASSERT_EQ(eval.code, 0) << eval.out;
  EXPECT_NE(eval.out.find(R"("rows":6,)"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find(R"("confusion":{"tp":2,"fp":1,"fn":0,"tn":3})"), std::string::npos) << eval.out;

  // A manifest whose hash no longer matches, and one whose shape the network cannot take.
  std::ofstream(model_dir / "manifest.json", std::ios::trunc) << manifest.substr(0, manifest.find(sha)) + std::string(64, '0') +
                                                                      manifest.substr(manifest.find(sha) + 64);
  const CliRun altered = run("model validate " + manifest_file);
  EXPECT_EQ(altered.code, 2) << altered.out;
  EXPECT_NE(altered.out.find("model.onnx: sha256 differs from the manifest"), std::string::npos) << altered.out;
}

}  // namespace
}  // namespace resonance::models
