// The ONNX backend against ONNX's own operator test models (Debian's libonnx-testdata: a model,
// its input tensors and the output the reference implementation computed), and its errors.

#include "resonance/models/onnx_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "resonance/infomodel/loader.h"
#include "resonance/models/dataset.h"
#include "resonance/models/table.h"

namespace resonance::models {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = "/usr/share/libonnx-testdata/data";

class OnnxModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kTestData)) << kTestData << " is missing: install libonnx-testdata (scripts/setup --test)";
    dir_ = fs::temp_directory_path() / fmt::format("onnx_model_test_{}_{}", ::getpid(),
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A model directory holding a copy of an ONNX test model and a manifest that hashes it.
  ModelManifest install(const std::string& test, std::vector<std::int64_t> input_shape) {
    fs::copy_file(kTestData / test / "model.onnx", dir_ / "model.onnx");
    ModelManifest m;
    m.name = "net";
    m.version = "1";
    m.interface_id = "quality_prediction";
    m.backend = "onnx";
    m.task = "regression";
    auto bytes = read_file_bytes(dir_ / "model.onnx");
    EXPECT_TRUE(bytes);
    m.files.push_back({"model.onnx", sha256_hex(*bytes)});
    m.onnx = ManifestOnnx{"model.onnx", std::move(input_shape), std::nullopt};
    m.dataset_id = std::string(64, 'a');
    return m;
  }

  static Tensor tensor(const std::string& test, const std::string& name) {
    auto t = read_onnx_tensor(kTestData / test / "test_data_set_0" / name);
    EXPECT_TRUE(t) << t.error().message();
    return t ? *t : Tensor{};
  }

  static void expect_near(const Tensor& got, const Tensor& want, float tolerance) {
    ASSERT_EQ(got.shape, want.shape);
    ASSERT_EQ(got.values.size(), want.values.size());
    for (std::size_t i = 0; i < want.values.size(); ++i) {
      ASSERT_NEAR(got.values[i], want.values[i], tolerance) << "element " << i;
    }
  }

  fs::path dir_;
};

TEST_F(OnnxModelTest, GemmRowsGiveTheReferenceOutput) {
  // torch.nn.Linear(10, 8): a Gemm with weight and bias initialisers.
  const std::string test = "pytorch-converted/test_Linear";
  auto model = OnnxModel::load(install(test, {-1, 10}), dir_);
  ASSERT_TRUE(model) << model.error().message();
  const Tensor input = tensor(test, "input_0.pb");
  ASSERT_EQ(input.shape, (std::vector<std::int64_t>{4, 10}));
  const auto out = (*model)->predict(input.values, 4);
  ASSERT_TRUE(out) << out.error().message();
  expect_near(*out, tensor(test, "output_0.pb"), 1e-5f);
  // A single row through the same net gives that row of the batch.
  const auto one = (*model)->predict(std::span<const float>(input.values).subspan(10, 10), 1);
  ASSERT_TRUE(one) << one.error().message();
  ASSERT_EQ(one->shape, (std::vector<std::int64_t>{1, 8}));
  for (std::size_t k = 0; k < 8; ++k) EXPECT_NEAR(one->values[k], out->values[8 + k], 1e-5f);
}

TEST_F(OnnxModelTest, ConvolutionGivesTheReferenceOutput) {
  for (const std::string test : {"pytorch-converted/test_Conv2d", "pytorch-converted/test_Conv2d_no_bias"}) {
    SCOPED_TRACE(test);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const Tensor input = tensor(test, "input_0.pb");
    ASSERT_EQ(input.shape.size(), 4u);
    auto model = OnnxModel::load(install(test, {-1, input.shape[1], input.shape[2], input.shape[3]}), dir_);
    ASSERT_TRUE(model) << model.error().message();
    const auto out = (*model)->run(input);
    ASSERT_TRUE(out) << out.error().message();
    expect_near(*out, tensor(test, "output_0.pb"), 1e-5f);
  }
}

// A binary PPM of w × h pixels where each 2 × 2 block has one random colour, so a bilinear
// halving is exact; returns the colours of the half-size image, RGB, row-major.
std::vector<std::uint8_t> write_blocky_ppm(const fs::path& file, int half_w, int half_h, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> half(static_cast<std::size_t>(half_w * half_h * 3));
  for (auto& v : half) v = static_cast<std::uint8_t>(rng() & 0xff);
  std::ofstream out(file, std::ios::binary);
  out << "P6\n" << 2 * half_w << " " << 2 * half_h << "\n255\n";
  for (int y = 0; y < 2 * half_h; ++y) {
    for (int x = 0; x < 2 * half_w; ++x) {
      const auto* p = &half[static_cast<std::size_t>(((y / 2) * half_w + x / 2) * 3)];
      out.write(reinterpret_cast<const char*>(p), 3);
    }
  }
  return half;
}

TEST_F(OnnxModelTest, ImageIsResizedOrderedAndNormalisedAsTheManifestSays) {
  // test_Conv2d takes 3 × 7 × 5 (C × H × W): the image is 10 × 14 and must be halved.
  const std::string test = "pytorch-converted/test_Conv2d";
  ModelManifest m = install(test, {1, 3, 7, 5});
  m.onnx->image = ManifestImage{5, 7, "rgb", 1.0 / 255, {0.5, 0.4, 0.3}, {0.2, 0.25, 0.5}};
  auto model = OnnxModel::load(m, dir_);
  ASSERT_TRUE(model) << model.error().message();
  const auto rgb = write_blocky_ppm(dir_ / "part.ppm", 5, 7, 17);

  const auto input = (*model)->image_tensor(dir_ / "part.ppm");
  ASSERT_TRUE(input) << input.error().message();
  Tensor want;
  want.shape = {1, 3, 7, 5};
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 35; ++p) {
      const double v = rgb[static_cast<std::size_t>(p * 3 + c)] / 255.0;
      want.values.push_back(static_cast<float>((v - m.onnx->image->mean[c]) / m.onnx->image->std[c]));
    }
  }
  expect_near(*input, want, 1e-6f);

  const auto out = (*model)->predict_image(dir_ / "part.ppm");
  ASSERT_TRUE(out) << out.error().message();
  const auto direct = (*model)->run(want);
  ASSERT_TRUE(direct) << direct.error().message();
  expect_near(*out, *direct, 1e-5f);
  EXPECT_EQ(out->shape, (std::vector<std::int64_t>{1, 4, 5, 4}));
}

TEST_F(OnnxModelTest, MissingFileIsNamed) {
  ModelManifest m = install("pytorch-converted/test_Linear", {-1, 10});
  fs::remove(dir_ / "model.onnx");
  const auto model = OnnxModel::load(m, dir_);
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().code(), StatusCode::kNotFound);
  EXPECT_NE(model.error().message().find((dir_ / "model.onnx").string()), std::string::npos) << model.error().message();
}

TEST_F(OnnxModelTest, HashMismatchIsRefusedBeforeLoading) {
  ModelManifest m = install("pytorch-converted/test_Linear", {-1, 10});
  std::ofstream(dir_ / "model.onnx", std::ios::app) << "x";
  const auto model = OnnxModel::load(m, dir_);
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().code(), StatusCode::kCorruption);
  EXPECT_NE(model.error().message().find("differs from the manifest's " + m.files[0].sha256), std::string::npos)
      << model.error().message();
}

TEST_F(OnnxModelTest, GarbageNetworkIsAStatusNotAnException) {
  ModelManifest m = install("pytorch-converted/test_Linear", {-1, 10});
  std::ofstream(dir_ / "model.onnx", std::ios::trunc) << "this is not a protobuf";
  m.files[0].sha256 = sha256_hex("this is not a protobuf");
  const auto model = OnnxModel::load(m, dir_);
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message().find("cannot load the network"), std::string::npos) << model.error().message();
}

TEST_F(OnnxModelTest, WrongInputShapeNamesExpectedAndFound) {
  auto model = OnnxModel::load(install("pytorch-converted/test_Linear", {-1, 10}), dir_);
  ASSERT_TRUE(model) << model.error().message();
  const std::vector<float> nine(18, 1.0f);
  const auto rows = (*model)->predict(nine, 2);
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.error().message().find("18 values for 2 rows is 9 per row; the model takes 10 (input_shape [-1, 10])"),
            std::string::npos)
      << rows.error().message();
  const auto tensor = (*model)->run(Tensor{{2, 9}, nine});
  ASSERT_FALSE(tensor);
  EXPECT_NE(tensor.error().message().find("input shape [2, 9] does not match the manifest's input_shape [-1, 10]"),
            std::string::npos)
      << tensor.error().message();
  // Feature rows to an image model and an image to a feature model are refused, not guessed.
  EXPECT_FALSE((*model)->predict_image(dir_ / "model.onnx"));
}

TEST_F(OnnxModelTest, ManifestThatLiesAboutTheShapeGetsOpenCvsReasonAsAStatus) {
  // The manifest says 9 features; the Gemm's weights take 10: OpenCV throws inside forward().
  auto model = OnnxModel::load(install("pytorch-converted/test_Linear", {-1, 9}), dir_);
  ASSERT_TRUE(model) << model.error().message();
  const std::vector<float> nine(9, 1.0f);
  const auto out = (*model)->predict(nine, 1);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message().find("running input [1, 9]: OpenCV:"), std::string::npos) << out.error().message();
}

TEST_F(OnnxModelTest, UndecodableImageIsNamed) {
  ModelManifest m = install("pytorch-converted/test_Conv2d", {1, 3, 7, 5});
  m.onnx->image = ManifestImage{5, 7, "bgr", 1.0, {}, {}};
  auto model = OnnxModel::load(m, dir_);
  ASSERT_TRUE(model) << model.error().message();
  std::ofstream(dir_ / "part.png") << "not a png";
  const auto out = (*model)->predict_image(dir_ / "part.png");
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message().find("part.png: not an image OpenCV can decode"), std::string::npos)
      << out.error().message();
  const auto missing = (*model)->predict_image(dir_ / "absent.png");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_F(OnnxModelTest, OnnxSectionRoundTripsThroughTheManifest) {
  ModelManifest m = install("pytorch-converted/test_Conv2d", {-1, 3, 7, 5});
  m.onnx->image = ManifestImage{5, 7, "rgb", 0.5, {1, 2, 3}, {4, 5, 6}};
  const auto back = parse_manifest(m.to_json(), "m.json");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->onnx);
  EXPECT_EQ(back->onnx->file, "model.onnx");
  EXPECT_EQ(back->onnx->input_shape, m.onnx->input_shape);
  ASSERT_TRUE(back->onnx->image);
  EXPECT_EQ(back->onnx->image->color, "rgb");
  EXPECT_EQ(back->onnx->image->std, (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(back->to_json(), m.to_json());
}

TEST_F(OnnxModelTest, DatasetRowsGiveOnePredictionEach) {
  // ArgMax over each row (keepdims): a [rows, 2] → [rows, 1] network; its int64 output is read as floats.
  const std::string test = "node/test_argmax_keepdims_example";
  ModelManifest m = install(test, {-1, 2});
  m.inputs = {{"a", "cnc", "tool_wear", 0, 0, "value"}, {"b", "cnc", "tool_wear", 0, 0, "value"}};
  auto model = OnnxModel::load(m, dir_);
  ASSERT_TRUE(model) << model.error().message();
  const Tensor input = tensor(test, "input_0.pb");
  Dataset ds;
  ds.feature_names = {"a", "b"};
  ds.label_name = "y";
  ds.rows = 2;
  ds.features = input.values;
  ds.labels = {0, 0};
  const auto predicted = predict_rows(**model, ds);
  ASSERT_TRUE(predicted) << predicted.error().message();
  EXPECT_EQ(*predicted, tensor(test, "output_0.pb").values);

  ds.feature_names = {"a", "c"};
  const auto renamed = predict_rows(**model, ds);
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().message(), "model 'net': dataset column 1 is 'c' but the manifest's inputs[1] is 'b'");
  ds.rows = 0;
  ds.features.clear();
  ds.labels.clear();
  ds.feature_names = {"a", "b"};
  const auto empty = predict_rows(**model, ds);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "model 'net': the dataset has no rows");
}

TEST_F(OnnxModelTest, ModelWithSeveralOutputsPerRowIsNotGuessedAt) {
  const std::string test = "pytorch-converted/test_Linear";
  auto model = OnnxModel::load(install(test, {-1, 10}), dir_);
  ASSERT_TRUE(model) << model.error().message();
  Dataset ds;
  ds.rows = 4;
  for (int c = 0; c < 10; ++c) ds.feature_names.push_back(fmt::format("f{}", c));
  ds.features = tensor(test, "input_0.pb").values;
  ds.labels.assign(4, 0.0f);
  const auto predicted = predict_rows(**model, ds);
  ASSERT_FALSE(predicted);
  EXPECT_EQ(predicted.error().message(), "model 'net': output shape [4, 8] for 4 rows; expected [4, 1]");
}

// The ONNX section checked against the rest of the manifest and the contract: each problem names
// the field and what was expected.
TEST_F(OnnxModelTest, ManifestOnnxSectionMismatchesAreNamed) {
  ModelManifest m = install("pytorch-converted/test_Linear", {-1, 10});
  m.outputs.push_back({"predicted_good_probability", infomodel::DataType::kDouble});
  m.inputs.push_back({"tool_wear", "cnc", "tool_wear", 0, 0, "value"});
  m.inputs.push_back({"cushion", "injection_moulding", "cushion_volume", 0, 0, "value"});
  const auto& model = infomodel::builtin_model();
  const Status two = validate_manifest(m, model, "m.json");
  ASSERT_FALSE(two.is_ok());
  EXPECT_NE(two.message().find("m.json: onnx.input_shape [-1, 10] takes 10 values per row but inputs[] lists 2"),
            std::string::npos)
      << two.message();
  m.onnx->input_shape = {-1, 2};
  EXPECT_TRUE(validate_manifest(m, model, "m.json").is_ok()) << validate_manifest(m, model, "m.json").message();

  ModelManifest wrong_file = m;
  wrong_file.onnx->file = "other.onnx";
  EXPECT_NE(validate_manifest(wrong_file, model, "m.json").message().find("onnx.file 'other.onnx' is not one of files[]"),
            std::string::npos);
  ModelManifest no_section = m;
  no_section.onnx.reset();
  EXPECT_NE(validate_manifest(no_section, model, "m.json").message().find("backend 'onnx' needs an \"onnx\" section"),
            std::string::npos);
  ModelManifest image = m;
  image.onnx->input_shape = {1, 3, 224, 224};
  image.onnx->image = ManifestImage{224, 200, "gray", 1.0, {}, {}};
  EXPECT_NE(validate_manifest(image, model, "m.json")
                .message()
                .find("onnx.input_shape [1, 3, 224, 224] does not fit the image: expected [N, 1, 200, 224]"),
            std::string::npos)
      << validate_manifest(image, model, "m.json").message();
}

TEST(OnnxManifest, ParseErrorsNameTheField) {
  const std::string base = R"({"manifest_version":1,"name":"n","version":"1","interface":"visual_inspection",
    "backend":"onnx","task":"binary","inputs":[],"outputs":[],"files":[],
    "lineage":{"dataset_id":"","code_version":"0"},"onnx":)";
  const std::pair<const char*, const char*> cases[] = {
      {R"({"file":"m.onnx","input_shape":[1,0]})", "m.json.onnx.input_shape[1]: 0 (a size > 0, or -1 for any)"},
      {R"({"file":"m.onnx"})", "m.json.onnx.input_shape: missing"},
      {R"({"file":"m.onnx","input_shape":"1x3"})", "m.json.onnx.input_shape: wrong type (string)"},
      {R"({"file":"m.onnx","input_shape":[1,3,2,2],"image":{"width":2,"height":2,"color":"hsv"}})",
       "m.json.onnx.image.color: 'hsv' is not gray, bgr or rgb"},
      {R"({"file":"m.onnx","input_shape":[1,3,2,2],"image":{"width":2,"height":2,"mean":[0.5]}})",
       "m.json.onnx.image.mean: 1 values for 3 channel(s) of color 'bgr'"},
      {R"({"file":"m.onnx","input_shape":[1,3,2,2],"image":{"width":0,"height":2}})",
       "m.json.onnx.image: width and height must be > 0 (found 0 × 2)"},
      {R"({"file":"m.onnx","input_shape":[1,3,2,2],"image":{"width":2,"height":2,"std":[1,0,1]}})",
       "m.json.onnx.image.std: a value is 0"},
  };
  for (const auto& [onnx, message] : cases) {
    const auto parsed = parse_manifest(base + onnx + "}", "m.json");
    ASSERT_FALSE(parsed) << onnx;
    EXPECT_EQ(parsed.error().message(), message);
  }
}

}  // namespace
}  // namespace resonance::models
