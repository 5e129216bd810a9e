#include "resonance/models/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

namespace resonance::models {
namespace {

Table sample_table() {
  return parse_table("id,Type,x,y,leak,label\n1,L,1.5,2,0,0\n2,H,2.5,3,1,1\n3,M,3.5,-0,0,0\n", "s.csv", {}).value();
}

TEST(Dataset, FromTableExcludesAndEncodesCategories) {
  DatasetSpec spec;
  spec.label = "label";
  spec.exclude = {"id", "leak"};
  spec.categorical = {"Type"};
  const auto ds = dataset_from_table(sample_table(), spec, "abc");
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{"Type", "x", "y"}));
  ASSERT_EQ(ds->rows, 3u);
  EXPECT_FLOAT_EQ(ds->row(0)[0], 1.0f);  // H=0, L=1, M=2
  EXPECT_FLOAT_EQ(ds->row(1)[0], 0.0f);
  EXPECT_FLOAT_EQ(ds->row(2)[0], 2.0f);
  EXPECT_EQ(ds->lineage.transform, "columns; Type: H=0,L=1,M=2");
  ASSERT_EQ(ds->lineage.sources.size(), 1u);
  EXPECT_EQ(ds->lineage.sources[0].sha256, "abc");
}

TEST(Dataset, ErrorsNameTheColumn) {
  DatasetSpec spec;
  spec.label = "nope";
  auto ds = dataset_from_table(sample_table(), spec, "");
  ASSERT_FALSE(ds);
  EXPECT_EQ(ds.error().message(), "s.csv: no column 'nope' (columns: 'id', 'Type', 'x', 'y', 'leak', 'label')");
  spec.label = "label";
  spec.features = {"x", "Type"};
  ds = dataset_from_table(sample_table(), spec, "");
  ASSERT_FALSE(ds);
  EXPECT_EQ(ds.error().message(), "s.csv: column 'Type' holds text; list it as categorical to encode it");
  spec.features = {"leak"};
  spec.exclude = {"leak"};
  ds = dataset_from_table(sample_table(), spec, "");
  ASSERT_FALSE(ds);
  EXPECT_EQ(ds.error().message(), "s.csv: column 'leak' cannot be an input: it is the label or excluded");
}

TEST(Dataset, EncodingRoundTripsAndIsCanonical) {
  DatasetSpec spec;
  spec.label = "label";
  spec.group = "id";
  spec.categorical = {"Type"};
  const auto ds = dataset_from_table(sample_table(), spec, "f00d").value();
  const std::string bytes = encode_dataset(ds);
  const auto back = decode_dataset(bytes, "mem");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(encode_dataset(*back), bytes);
  EXPECT_EQ(back->groups, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(dataset_id(ds).size(), 64u);

  // Every truncation is refused with a message, never a crash.
  for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(decode_dataset(bytes.substr(0, n), "mem")) << n;
  EXPECT_FALSE(decode_dataset(bytes + "x", "mem"));
}

TEST(Dataset, IdChangesWithLineage) {
  DatasetSpec spec;
  spec.label = "label";
  spec.categorical = {"Type"};
  const auto a = dataset_from_table(sample_table(), spec, "aaaa").value();
  const auto b = dataset_from_table(sample_table(), spec, "bbbb").value();
  EXPECT_NE(dataset_id(a), dataset_id(b));
  EXPECT_EQ(dataset_id(a), dataset_id(dataset_from_table(sample_table(), spec, "aaaa").value()));
}

TEST(Dataset, Sha256KnownAnswer) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DatasetStore, PutGetImmutableAndTamperDetected) {
  const auto dir = std::filesystem::temp_directory_path() / ("models_store_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  DatasetStore store(dir);
  DatasetSpec spec;
  spec.label = "label";
  spec.categorical = {"Type"};
  const auto ds = dataset_from_table(sample_table(), spec, "").value();
  const auto id = store.put(ds);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, dataset_id(ds));
  EXPECT_EQ(store.put(ds).value(), *id);  // idempotent
  const auto got = store.get(id->substr(0, 12));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(encode_dataset(*got), encode_dataset(ds));
  EXPECT_EQ(store.list(), std::vector<std::string>{*id});

  const auto missing = store.get("00000000");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  {
    std::fstream f(dir / (*id + ".rds"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('Z');
  }
  const auto tampered = store.get(*id);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), StatusCode::kCorruption);
  std::filesystem::remove_all(dir);
}

TEST(Dataset, EmptyDatasetIsRefused) {
  Dataset ds;
  ds.label_name = "y";
  EXPECT_EQ(ds.validate().message(), "dataset is empty (no rows)");
}

// Issue 8 item 7: a value that is not a number and an unknown dataset id say what and where.
TEST(Dataset, NonFiniteValueNamesRowAndColumn) {
  Dataset ds;
  ds.feature_names = {"x", "y"};
  ds.label_name = "label";
  ds.rows = 2;
  ds.features = {1, 2, 3, std::numeric_limits<float>::quiet_NaN()};
  ds.labels = {0, 1};
  EXPECT_EQ(ds.validate().message(), "row 2 feature 'y' is not a finite number");
  ds.features[3] = 4;
  ds.labels[0] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ds.validate().message(), "row 1 label 'label' is not a finite number");
}

TEST(DatasetStore, UnknownAndShortIdsSayWhatAndWhere) {
  const auto dir = std::filesystem::temp_directory_path() / ("models_store_ids_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  DatasetStore store(dir);
  EXPECT_EQ(store.get("0123456789").error().message(), "no dataset '0123456789' in " + dir.string());
  EXPECT_EQ(store.get("0123").error().message(), "dataset id '0123' is too short (8+ hex characters)");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
