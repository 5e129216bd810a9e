#include "resonance/models/manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "resonance/infomodel/loader.h"

namespace resonance::models {
namespace {

ModelManifest good() {
  ModelManifest m;
  m.name = "spindle-rul";
  m.version = "1.0.0";
  m.interface_id = "predictive_maintenance";
  m.backend = "xgboost";
  m.task = "regression";
  m.inputs = {{"spindle_load_slope", "cnc", "spindle_load", 1800, 60, "slope"}};
  m.outputs = {{"remaining_useful_life", infomodel::DataType::kDouble}};
  m.files = {{"model.json", std::string(64, 'a')}};
  m.dataset_id = std::string(64, 'b');
  m.params_json = R"({"rounds":400})";
  m.code_version = "0.1.0";
  m.metrics_json = R"({"rmse":11.75})";
  return m;
}

TEST(Manifest, JsonRoundTripAndValidAgainstContract) {
  const auto text = good().to_json();
  const auto parsed = parse_manifest(text, "m.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->to_json(), text);
  EXPECT_TRUE(validate_manifest(*parsed, infomodel::builtin_model(), "m.json").is_ok());
}

TEST(Manifest, MismatchesWithTheContractAreNamed) {
  auto m = good();
  m.outputs = {{"rul", infomodel::DataType::kDouble}};
  m.inputs.push_back({"x", "cnc", "door_open", 0, 0, "value"});
  m.inputs[0].window_s = 7200;
  const Status s = validate_manifest(m, infomodel::builtin_model(), "m.json");
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("m.json: outputs[0] 'rul': interface 'predictive_maintenance' has no such output "
                             "(outputs: remaining_useful_life, failure_probability_7d)"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("inputs[1] 'x': signal cnc/door_open is not an input of interface 'predictive_maintenance'"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("inputs[0] 'spindle_load_slope': window 7200 s exceeds the contract's 3600 s"),
            std::string::npos)
      << s.message();

  m = good();
  m.interface_id = "crystal_ball";
  EXPECT_NE(validate_manifest(m, infomodel::builtin_model(), "m.json")
                .message()
                .find("interface 'crystal_ball' is not in the information model"),
            std::string::npos);
  m = good();
  m.outputs[0].type = infomodel::DataType::kInt32;
  EXPECT_NE(validate_manifest(m, infomodel::builtin_model(), "m.json")
                .message()
                .find("outputs[0] 'remaining_useful_life': type int32 but the contract says double"),
            std::string::npos);
}

TEST(Manifest, ParseErrorsNameTheField) {
  EXPECT_EQ(parse_manifest("[1]", "m.json").error().message(), "m.json: not a JSON object");
  std::string text = good().to_json();
  const auto at = text.find("\"window_s\": ");
  text.replace(at, text.find(',', at) - at, "\"window_s\": \"x\"");
  EXPECT_EQ(parse_manifest(text, "m.json").error().message(), "m.json.inputs[0].window_s: wrong type (string)");
  text = good().to_json();
  text.replace(text.find("\"model.json\""), 12, "\"../x\"");
  EXPECT_EQ(parse_manifest(text, "m.json").error().message(), "m.json.files[0].path: '../x' must be relative, without '..'");
}

// Issue 8 item 7: every problem of a manifest that does not match what a model needs is listed
// at once, each naming the manifest and the field.
TEST(Manifest, EveryStructuralProblemIsListedWithTheField) {
  auto m = good();
  m.outputs.clear();
  m.files.clear();
  m.dataset_id = "abc";
  const Status s = validate_manifest(m, infomodel::builtin_model(), "dir/manifest.json");
  ASSERT_FALSE(s);
  for (const char* line : {"dir/manifest.json: no outputs", "dir/manifest.json: no files",
                           "dir/manifest.json: lineage.dataset_id is not a dataset id"}) {
    EXPECT_NE(s.message().find(line), std::string::npos) << line << "\n" << s.message();
  }
  m = good();
  m.backend = "tensorflow";
  EXPECT_EQ(validate_manifest(m, infomodel::builtin_model(), "dir/manifest.json").message(),
            "dir/manifest.json: backend 'tensorflow' is not one of xgboost, onnx, ewma, cusum, linear_trend, threshold");
}

TEST(Manifest, MissingFileAndAlteredFileAreNamed) {
  const auto dir = std::filesystem::temp_directory_path() / ("manifest_files_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto m = good();
  const Status missing = verify_manifest_files(m, dir);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find((dir / "model.json").string() + ": cannot open"), std::string::npos) << missing.message();
  std::ofstream(dir / "model.json") << "{}";
  const Status altered = verify_manifest_files(m, dir);
  EXPECT_EQ(altered.message(), (dir / "model.json").string() + ": sha256 differs from the manifest");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
