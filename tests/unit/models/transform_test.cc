// Column transforms (transform.h): the specification's errors, the AI4I physics through the
// transform (bit-identical to the formulas it replaced), and offline == live: the same rows
// computed from an imported table and from live samples through WindowRing and the scheduler.

#include "resonance/models/transform.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numbers>

#include "resonance/infomodel/loader.h"
#include "resonance/models/frame_dataset.h"
#include "resonance/models/inference.h"
#include "resonance/models/proofs.h"
#include "resonance/models/xgboost_model.h"
#include "tests/unit/models/fake_consumer.h"

namespace resonance::models {
namespace {

using test_support::FakeConsumer;

std::string parse_error(std::string_view json) {
  auto t = Transform::parse(json, "t.json");
  return t ? std::string("(parsed)") : t.error().message();
}

Table table_of(std::string_view csv) {
  auto t = parse_table(csv, "f.csv", ReadOptions{});
  EXPECT_TRUE(t) << t.error().message();
  return t ? *t : Table{};
}

constexpr std::string_view kRatio = R"({"transform_version": 1, "inputs": ["a", "b"],
  "define": [{"name": "r", "op": "ratio", "args": ["a", "b"]}], "columns": ["a", "r"]})";

TEST(Transform, ErrorsSayWhatAndWhere) {
  // Unknown name in an argument and in the columns.
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["a"],
      "define": [{"name": "p", "op": "product", "args": ["a", "Torqe"]}], "columns": ["p"]})"),
            "t.json.define[0] 'p'.args[1]: no input or definition 'Torqe' (names: a, p)");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["a"], "columns": ["a", "b"]})"),
            "t.json.columns[1]: no input or definition 'b' (names: a)");
  // Types: a code in arithmetic, a window over a definition, a lookup of a number, a bad argument.
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": [{"name": "T", "type": "code", "codes": {"H": 0}}, "x"],
      "define": [{"name": "s", "op": "sum", "args": ["T", "x"]}], "columns": ["s"]})"),
            "t.json.define[0] 's'.args[0]: type mismatch: 'T' is a code (a category), sum takes numbers (map codes "
            "to numbers with lookup)");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"], "time": {"column": "t"},
      "define": [{"name": "d", "op": "linear", "args": ["x"], "scale": 2},
                 {"name": "w", "op": "window", "args": ["d"], "feature": "mean", "window_s": 5}], "columns": ["w"]})"),
            "t.json.define[1] 'w'.args[0]: type mismatch: a window reads a raw input's samples, 'd' is a definition");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "l", "op": "lookup", "args": ["x"], "table": {"H": 1}}], "columns": ["l"]})"),
            "t.json.define[0] 'l'.args[0]: type mismatch: lookup takes a code input, 'x' is a number");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "s", "op": "sum", "args": ["x", true]}], "columns": ["s"]})"),
            "t.json.define[0] 's'.args[1]: expected an input or definition name or a finite number, found true");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": [{"name": "T", "type": "code", "codes": {"H": 0, "L": 1}}],
      "define": [{"name": "l", "op": "lookup", "args": ["T"], "table": {"H": 1}}], "columns": ["l"]})"),
            "t.json.define[0] 'l'.table: no entry for code 'L' of 'T'");
  // A type that is not a string is an error with its place, not an exception out of the parser.
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": [{"name": "x", "type": 1}], "columns": ["x"]})"),
            "t.json.inputs[0].type: expected a non-empty string, found 1");
  // A cycle, named in full.
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "a", "op": "sum", "args": ["x", "b"]}, {"name": "b", "op": "product", "args": ["a", 2]}],
      "columns": ["a"]})"),
            "t.json.define: cycle: 'a' → 'b' → 'a'");
  // Shape: arity, unknown keys and operations, duplicate names, a window without a time column.
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "d", "op": "difference", "args": ["x"]}], "columns": ["d"]})"),
            "t.json.define[0] 'd'.args: difference takes two arguments, found 1");
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "d", "op": "linear", "args": ["x"], "scael": 2}], "columns": ["d"]})"),
            "t.json.define[0] 'd': unknown key 'scael' (keys: name, op, args, scale, offset)");
  EXPECT_NE(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "d", "op": "power", "args": ["x"]}], "columns": ["d"]})")
                .find("t.json.define[0] 'd'.op: 'power' is not an operation"),
            std::string::npos);
  EXPECT_EQ(parse_error(R"({"transform_version": 1, "inputs": ["x", "x"], "columns": ["x"]})"),
            "t.json.inputs[1]: 'x' is already an input or a definition");
  EXPECT_NE(parse_error(R"({"transform_version": 1, "inputs": ["x"],
      "define": [{"name": "w", "op": "window", "args": ["x"], "feature": "mean", "window_s": 5}], "columns": ["w"]})")
                .find("a window needs the transform's \"time\""),
            std::string::npos);
  EXPECT_EQ(parse_error(R"({"transform_version": 2, "inputs": ["x"], "columns": ["x"]})"),
            "t.json.transform_version: 2 (this build reads 1)");
}

TEST(Transform, TableErrorsNameTheColumnAndRow) {
  auto t = Transform::parse(R"({"transform_version": 1, "inputs": ["Torque", {"name": "Type", "type": "code",
      "codes": {"H": 0, "L": 1}}], "columns": ["Torque", "Type"]})", "t.json");
  ASSERT_TRUE(t) << t.error().message();
  // Unknown column.
  auto missing = derive_rows(table_of("Torqe,Type\n1,H\n"), *t);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("transform inputs[0] 'Torque': f.csv: no column 'Torque'"), std::string::npos)
      << missing.error().message();
  // A number input on a text column: type mismatch, naming the row.
  auto text = derive_rows(table_of("Torque,Type\n1,H\nx7,L\n"), *t);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message(),
            "f.csv: transform inputs[0] 'Torque': type mismatch: the input is a number, the column holds text (row 2: "
            "'x7'); declare it {\"type\": \"code\", \"codes\": …}");
  // A label no code has.
  auto label = derive_rows(table_of("Torque,Type\n1,H\n2,M\n"), *t);
  ASSERT_FALSE(label);
  EXPECT_EQ(label.error().message(), "f.csv: row 2: column 'Type' is 'M', not one of its codes H, L");
}

TEST(Transform, DivisionByZeroGivesNaNTheRowIsSkippedAndCounted) {
  auto t = Transform::parse(kRatio, "t.json");
  ASSERT_TRUE(t) << t.error().message();
  const Table table = table_of("a,b,y\n1,2,0\n3,0,1\n5,4,0\n6,0,1\n");
  TransformReport report;
  auto ds = derive_dataset(table, *t, "y", "", {}, &report);
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ(ds->rows, 2u);
  EXPECT_EQ(report.skipped_rows, 2u);
  EXPECT_EQ(report.first_skipped_row, 2u);
  EXPECT_EQ(report.first_gap.message(), "column 'r': 'r': division by zero ('b' is 0)");
  EXPECT_EQ(ds->features, (std::vector<float>{1, 0.5f, 5, 1.25f}));
  // Every row divides by zero: an error, naming the first.
  auto none = derive_dataset(table_of("a,b,y\n1,0,0\n"), *t, "y", "", {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "f.csv: the transform gave no row: row 1: column 'r': 'r': division by zero ('b' is 0)");
  // Live the same evaluation says the same.
  Transform::Scratch scratch;
  std::vector<WindowInput> windows{{{5}, {1.0}}, {{5}, {0.0}}};
  std::vector<double> row(2);
  TransformGap gap;
  EXPECT_FALSE(t->evaluate(windows, 5, row, scratch, &gap));
  EXPECT_TRUE(std::isnan(row[1]));
  EXPECT_EQ(gap.message(), "column 'r': 'r': division by zero ('b' is 0)");
}

TEST(Transform, CanonicalFormHashAndLineage) {
  auto t = Transform::parse(R"({"columns": ["a", "r"], "define": [{"args": ["a", "b"], "op": "ratio", "name": "r"}],
      "inputs": ["a", {"name": "b"}], "transform_version": 1})", "t.json");
  ASSERT_TRUE(t);
  auto same = Transform::parse(kRatio, "t.json");
  ASSERT_TRUE(same);
  EXPECT_EQ(t->canonical_json(), same->canonical_json());  // key order and shorthand do not matter
  EXPECT_EQ(t->sha256(), sha256_hex(t->canonical_json()));
  auto again = Transform::parse(t->canonical_json(), "c");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->canonical_json(), t->canonical_json());
  Lineage lineage{{}, transform_lineage(*t)};
  auto back = transform_of(lineage);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->sha256(), t->sha256());
  lineage.transform[lineage.transform.size() - 3] = 'x';  // the text no longer matches its hash
  EXPECT_FALSE(transform_of(lineage));
  EXPECT_FALSE(*transform_of(Lineage{{}, "columns"}));  // not made by a transform
}

// The formulas src/models/ai4i.cc computed before the transform existed (commit 5aae159), for
// checking that the transform gives the same doubles.
std::vector<double> ai4i_formulas(const std::string& type, double air, double process, double rpm, double torque,
                                  double wear) {
  const double code = type == "H" ? 0 : type == "L" ? 1 : 2;
  const double limit = type == "H" ? 13000 : type == "L" ? 11000 : 12000;
  const double strain = wear * torque;
  const double power = torque * rpm * 2 * std::numbers::pi / 60;
  const double power_margin = std::min(power - 3500, 9000 - power);
  const double heat_margin = std::min(8.6 - (process - air), (1380 - rpm) / 100);
  return {code, air, process, rpm, torque, wear, process - air, power, strain, strain / limit, power_margin,
          heat_margin};
}

TEST(Transform, Ai4iPhysicsEqualsTheFormulasBitForBit) {
  std::string csv = "UDI,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],"
                    "Tool wear [min],Machine failure\n";
  std::vector<std::vector<double>> want;
  const char* types[] = {"L", "M", "H"};
  for (int i = 0; i < 600; ++i) {
    const std::string type = types[i % 3];
    const double air = 295.3 + (i % 53) * 0.1, process = air + 8.6 + ((i % 7) - 3) * 0.1;
    const double rpm = 1168 + (i * 37) % 1700, torque = 3.8 + (i * 13 % 730) * 0.1, wear = i % 254;
    csv += fmt::format("{},{},{},{},{},{},{},0\n", i + 1, type, air, process, rpm, torque, wear);
    want.push_back(ai4i_formulas(type, air, process, rpm, torque, wear));
  }
  auto rows = derive_rows(table_of(csv), ai4i_physics_transform());
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_EQ(rows->rows.size(), want.size());
  for (std::size_t r = 0; r < want.size(); ++r)
    for (std::size_t c = 0; c < 12; ++c)
      ASSERT_EQ(std::bit_cast<std::uint64_t>(rows->values[r * 12 + c]), std::bit_cast<std::uint64_t>(want[r][c]))
          << "row " << r << " column " << ai4i_physics_transform().spec().columns[c];
  // The published file, when it is here.
  const std::filesystem::path real = "/work/shared/data/ai4i2020/ai4i2020.csv";
  if (!std::filesystem::exists(real)) GTEST_SKIP() << real << " not present";
  auto table = read_table(real, ReadOptions{});
  ASSERT_TRUE(table);
  auto all = derive_rows(*table, ai4i_physics_transform());
  ASSERT_TRUE(all);
  ASSERT_EQ(all->rows.size(), 10000u);
  auto col = [&](const char* name) { return (*table->column(name))->numbers; };
  const auto& type = (*table->column("Type"))->texts;
  const auto air = col("Air temperature [K]"), process = col("Process temperature [K]"),
             rpm = col("Rotational speed [rpm]"), torque = col("Torque [Nm]"), wear = col("Tool wear [min]");
  for (std::size_t r = 0; r < table->rows; ++r) {
    const auto f = ai4i_formulas(type[r], air[r], process[r], rpm[r], torque[r], wear[r]);
    for (std::size_t c = 0; c < 12; ++c) ASSERT_EQ(all->values[r * 12 + c], f[c]) << "row " << r + 1;
  }
}

// C-MAPSS-style: per engine (group) and cycle (time, 1 s a cycle), the cycle number and window
// features of a sensor over the last 5 cycles. Offline from the table; live from rings filled with
// the same samples: the same doubles.
TEST(Transform, WindowsOfflineEqualLiveBitForBit) {
  auto t = Transform::parse(R"({"transform_version": 1, "inputs": ["cycle", "s2"],
      "time": {"column": "cycle", "unit_s": 1}, "group": "unit",
      "define": [{"name": "s2_mean", "op": "window", "args": ["s2"], "feature": "mean", "window_s": 5},
                 {"name": "s2_slope", "op": "window", "args": ["s2"], "feature": "slope", "window_s": 5},
                 {"name": "s2_std2", "op": "window", "args": ["s2"], "feature": "std", "window_s": 2.5},
                 {"name": "s2 - mean", "op": "difference", "args": ["s2", "s2_mean"]}],
      "columns": ["cycle", "s2_mean", "s2_slope", "s2_std2", "s2 - mean"]})", "cmapss.json");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->input_windows_ns()[0], 0);
  EXPECT_EQ(t->input_windows_ns()[1], 5'000'000'000);
  std::string csv = "unit,cycle,s2,rul\n";
  for (int u = 1; u <= 2; ++u)
    for (int c = 1; c <= 40; ++c) csv += fmt::format("{},{},{},{}\n", u, c, 641.8 + 0.013 * c * u + (c % 3) * 0.07, 40 - c);
  const Table table = table_of(csv);
  auto offline = derive_rows(table, *t);
  ASSERT_TRUE(offline) << offline.error().message();
  ASSERT_EQ(offline->rows.size(), 80u);
  // Live: one ring per input per engine, the windows as the scheduler takes them.
  std::size_t i = 0;
  for (int u = 1; u <= 2; ++u) {
    WindowRing cycle(64), s2(64);
    for (int c = 1; c <= 40; ++c, ++i) {
      const TimestampNs ts = c * 1'000'000'000LL;
      const std::size_t r = offline->rows[i];
      cycle.push(ts, (*table.column("cycle"))->numbers[r]);
      s2.push(ts, (*table.column("s2"))->numbers[r]);
      std::vector<WindowInput> windows(2);
      cycle.window(ts, t->input_windows_ns()[0], windows[0]);
      s2.window(ts, t->input_windows_ns()[1], windows[1]);
      std::vector<double> live(5);
      Transform::Scratch scratch;
      ASSERT_TRUE(t->evaluate(windows, ts, live, scratch));
      for (std::size_t k = 0; k < 5; ++k)
        ASSERT_EQ(std::bit_cast<std::uint64_t>(live[k]), std::bit_cast<std::uint64_t>(offline->values[i * 5 + k]))
            << "unit " << u << " cycle " << c << " column " << t->spec().columns[k];
    }
  }
}

// An AI4I-like model end to end in one process: a table → a derived dataset → XGBoost → the
// manifest as `model train --map` writes it → the scheduler fed the rows' values as samples of the
// mapped signals → every live output equals the prediction for the dataset's row.
TEST(Transform, ModelOnDerivedColumnsAnswersLiveWhatTheDatasetRowAnswers) {
  std::string csv = "Type,Air,Process,Speed,Torque,Wear,Failure\n";
  const char* types[] = {"L", "M", "H"};
  for (int i = 0; i < 400; ++i) {
    const double air = 22 + (i % 41) * 0.1, process = air + 6 + (i % 9) * 0.4, rpm = 1200 + (i * 53) % 1600;
    const double torque = 5 + (i * 17 % 600) * 0.1, wear = (i * 7) % 240;
    const double power = torque * rpm * 2 * std::numbers::pi / 60;
    const bool failure = power > 9000 || wear * torque > 11000 || process - air < 7;
    csv += fmt::format("{},{},{},{},{},{},{}\n", types[i % 3], air, process, rpm, torque, wear, failure ? 1 : 0);
  }
  const Table table = table_of(csv);
  auto t = Transform::parse(R"({"transform_version": 1,
      "inputs": [{"name": "Type", "type": "code", "codes": {"H": 0, "L": 1, "M": 2}}, "Air", "Process", "Speed",
                 "Torque", "Wear"],
      "define": [{"name": "dT", "op": "difference", "args": ["Process", "Air"]},
                 {"name": "power", "op": "product", "args": ["Torque", "Speed", 0.10471975511965977]},
                 {"name": "strain", "op": "product", "args": ["Wear", "Torque"]},
                 {"name": "limit", "op": "lookup", "args": ["Type"], "table": {"H": 13000, "L": 11000, "M": 12000}},
                 {"name": "strain / limit", "op": "ratio", "args": ["strain", "limit"]}],
      "columns": ["Type", "Speed", "dT", "power", "strain / limit"]})", "t.json");
  ASSERT_TRUE(t) << t.error().message();
  auto ds = derive_dataset(table, *t, "Failure", "", {});
  ASSERT_TRUE(ds) << ds.error().message();
  TrainParams p;
  p.task = Task::kBinary;
  p.rounds = 30;
  p.max_depth = 3;
  p.nthread = 1;
  auto model = XgbModel::train({ds->features.data(), ds->rows, ds->cols()}, ds->labels, p);
  ASSERT_TRUE(model) << model.error().message();
  const auto dir = std::filesystem::temp_directory_path() / ("transform_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bytes = *model->save();
  std::ofstream(dir / "model.json", std::ios::binary) << bytes;

  ModelManifest m;
  m.name = "failure";
  m.version = "1";
  m.interface_id = "anomaly_detection";
  m.backend = "xgboost";
  m.task = "binary";
  const std::vector<ManifestSignal> signals = {{"Type", "cnc", "tool_id"},
                                               {"Air", "cnc", "x_axis_temperature"},
                                               {"Process", "cnc", "spindle_temperature"},
                                               {"Speed", "cnc", "spindle_speed"},
                                               {"Torque", "cnc", "spindle_load"},
                                               {"Wear", "cnc", "tool_wear"}};
  for (std::size_t c = 0; c < ds->cols(); ++c) {
    if (t->column_is_input(c)) {
      const auto& s = *std::ranges::find(signals, ds->feature_names[c], &ManifestSignal::input);
      m.inputs.push_back({ds->feature_names[c], s.category, s.signal, 0, 0, "last"});
    } else {
      m.inputs.push_back({ds->feature_names[c], "", "", 0, 0, "derived"});
    }
  }
  m.outputs = {{"anomaly_score", infomodel::DataType::kDouble}};
  m.files = {{"model.json", sha256_hex(bytes)}};
  m.dataset_id = dataset_id(*ds);
  m.transform = ManifestTransform{t->canonical_json(), t->sha256(), {}};
  auto parsed = parse_manifest(m.to_json(), "m.json");  // through its JSON, as a node reads it
  ASSERT_TRUE(parsed) << parsed.error().message();

  auto catalog = std::move(*SeriesCatalog::open(":memory:"));
  std::vector<SeriesId> ids;
  for (const auto& s : signals) ids.push_back(*catalog->resolve("site/area/line1/cnc-01/" + s.signal));
  FakeConsumer consumer;
  std::mutex mu;
  std::vector<InferenceRecord> records;
  InferenceScheduler s(infomodel::builtin_model(), *catalog, consumer, [&](std::vector<InferenceRecord>&& r) {
    std::lock_guard lock(mu);
    records.insert(records.end(), r.begin(), r.end());
  });
  // Without signals for its raw inputs the model is refused, naming the input and the remedy.
  const Status refused = s.deploy({*parsed, dir});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.message(),
            "model 'failure' version 1: inputs[0] 'Type': computed from the raw input 'Type', which maps to no live "
            "signal; retrain with `resonance model train … --map 'Type=CATEGORY/SIGNAL'` (docs/models.md \"Derived "
            "inputs live\")");
  m.transform->signals = signals;
  parsed = parse_manifest(m.to_json(), "m.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_TRUE(validate_manifest(*parsed, infomodel::builtin_model(), "m.json").is_ok());
  const Status deployed = s.deploy({*parsed, dir});
  ASSERT_TRUE(deployed.is_ok()) << deployed.message();
  s.start();
  // Row r at r seconds: each signal on its own, as devices publish them, in batches of a few.
  std::vector<Sample> all;
  std::vector<double> types_coded = {1, 2, 0};
  for (std::size_t r = 0; r < table.rows; ++r) {
    const TimestampNs ts = static_cast<TimestampNs>(r + 1) * 1'000'000'000;
    all.push_back({ids[0], ts, types_coded[r % 3], {}});
    for (std::size_t k = 1; k < signals.size(); ++k)
      all.push_back({ids[k], ts, (*table.column(signals[k].input))->numbers[r], {}});
  }
  for (std::size_t i = 0; i < all.size(); i += 5)
    s.on_durable(SampleBatch{std::vector<Sample>(all.begin() + static_cast<std::ptrdiff_t>(i),
                                                 all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 5, all.size()))),
                             {"test", "dev", 0, {}}});
  s.stop();
  ASSERT_EQ(records.size(), table.rows);
  auto offline = model->predict({ds->features.data(), ds->rows, ds->cols()});
  ASSERT_TRUE(offline);
  std::size_t different = 0;
  for (std::size_t r = 0; r < records.size(); ++r) {
    ASSERT_EQ(records[r].window_to_ns, static_cast<TimestampNs>(r + 1) * 1'000'000'000);
    ASSERT_EQ(records[r].outputs.at(0), static_cast<double>((*offline)[r])) << "row " << r + 1;
    different += r > 0 && records[r].outputs[0] != records[r - 1].outputs[0];
  }
  EXPECT_GT(different, 10u) << "a constant model would prove little";
  std::filesystem::remove_all(dir);
}

// A frame dataset's columns are series paths: a transform over them computes from the frame's
// doubles, and its raw inputs map to the signals their paths resolve to (model train needs no --map).
TEST(Transform, OverAFrameTheSeriesMapToTheirSignals) {
  constexpr const char* kLoad = "site/area/line1/cnc-01/spindle_load";
  constexpr const char* kSpeed = "site/area/line1/cnc-01/spindle_speed";
  constexpr const char* kWear = "site/area/line1/cnc-01/tool_wear";
  Frame frame;
  frame.grid = {1, 2, 3};
  frame.columns = 3;
  frame.values = {40, 1500, 7, 0, 0, 0, 60, 3000, 9};
  frame.valid = {1, 1, 1, 1, 0, 1, 1, 1, 1};  // the second grid point lacks a speed
  FrameSpec spec{{kLoad, kSpeed, kWear}, kWear, {}};
  std::size_t skipped = 0;
  auto table = frame_table(frame, spec, &skipped);
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(table->rows, 2u);
  EXPECT_EQ(skipped, 1u);
  auto t = Transform::parse(fmt::format(R"({{"transform_version": 1, "inputs": ["{}", "{}"],
      "define": [{{"name": "load per 1000 rpm", "op": "ratio", "args": ["{}", "{}"]}},
                 {{"name": "scaled", "op": "linear", "args": ["load per 1000 rpm"], "scale": 1000}}],
      "columns": ["scaled"]}})", kLoad, kSpeed, kLoad, kSpeed), "t.json");
  ASSERT_TRUE(t) << t.error().message();
  auto ds = derive_dataset(*table, *t, kWear, "", {});
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ(ds->features, (std::vector<float>{static_cast<float>(40.0 / 1500 * 1000), 20.0f}));
  EXPECT_EQ(ds->labels, (std::vector<float>{7, 9}));
  auto signals = series_signals(*t, infomodel::builtin_model());
  ASSERT_TRUE(signals) << signals.error().message();
  ASSERT_EQ(signals->size(), 2u);
  EXPECT_EQ((*signals)[0].category, "cnc");
  EXPECT_EQ((*signals)[0].signal, "spindle_load");
  EXPECT_EQ((*signals)[1].signal, "spindle_speed");
  auto imported = Transform::parse(kRatio, "t.json");
  ASSERT_TRUE(imported);
  auto none = series_signals(*imported, infomodel::builtin_model());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("transform input 'a': "), std::string::npos) << none.error().message();
}

TEST(Transform, ManifestWithoutTransformIsRefusedNamingTheRemedy) {
  ModelManifest m;
  m.name = "imported";
  m.version = "1";
  m.interface_id = "anomaly_detection";
  m.backend = "threshold";
  m.task = "binary";
  m.inputs = {{"power [W]", "cnc", "spindle_load", 0, 0, "derived"}};
  m.outputs = {{"anomalous", infomodel::DataType::kBool}};
  m.params_json = R"({"max": 1})";
  auto catalog = std::move(*SeriesCatalog::open(":memory:"));
  FakeConsumer consumer;
  InferenceScheduler s(infomodel::builtin_model(), *catalog, consumer, [](std::vector<InferenceRecord>&&) {});
  const Status refused = s.deploy({m, "."});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("inputs[0] 'power [W]': a 'derived' column was computed by a training transform "
                                   "the manifest does not record"),
            std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("--map COLUMN=CATEGORY/SIGNAL"), std::string::npos);
}

TEST(Transform, ManifestTransformIsCheckedWhenParsed) {
  auto t = Transform::parse(kRatio, "t.json");
  ASSERT_TRUE(t);
  ModelManifest m;
  m.name = "r";
  m.version = "1";
  m.interface_id = "anomaly_detection";
  m.backend = "threshold";
  m.task = "binary";
  m.inputs = {{"a", "cnc", "spindle_load", 0, 0, "last"}, {"r", "", "", 0, 0, "derived"}};
  m.outputs = {{"anomalous", infomodel::DataType::kBool}};
  m.transform = ManifestTransform{t->canonical_json(), std::string(64, 'f'), {{"a", "cnc", "spindle_load"}}};
  auto wrong_hash = parse_manifest(m.to_json(), "m.json");
  ASSERT_FALSE(wrong_hash);
  EXPECT_NE(wrong_hash.error().message().find("m.json.transform.sha256: ffff"), std::string::npos);
  m.transform->sha256 = t->sha256();
  m.transform->signals.push_back({"c", "cnc", "spindle_speed"});
  auto unknown = parse_manifest(m.to_json(), "m.json");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "m.json.transform.signals[1].input: 'c' is not an input of the transform");
  m.transform->signals.pop_back();
  m.transform->signals.push_back({"b", "cnc", "spindle_speed"});
  auto ok = parse_manifest(m.to_json(), "m.json");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->transform->sha256, t->sha256());
  EXPECT_TRUE(validate_manifest(*ok, infomodel::builtin_model(), "m.json").is_ok());
  // A signal the contract does not take is named with where it is.
  ok->interface_id = "predictive_maintenance";
  const Status s = validate_manifest(*ok, infomodel::builtin_model(), "m.json");
  EXPECT_NE(s.message().find("m.json: transform.signals[1] 'b': signal cnc/spindle_speed is not an input of interface "
                             "'predictive_maintenance'"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace resonance::models
