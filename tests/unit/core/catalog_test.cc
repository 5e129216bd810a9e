#include "resonance/core/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace resonance {
namespace {

TEST(SeriesPath, AcceptsFiveSegments) {
  EXPECT_TRUE(validate_series_path("plant1/machining/line1/cnc-01/spindle_speed").is_ok());
  EXPECT_TRUE(validate_series_path("a/b/c/d/e.f").is_ok());
}

TEST(SeriesPath, RejectsWithPreciseReason) {
  auto msg = [](std::string_view p) { return validate_series_path(p).message(); };
  EXPECT_NE(msg("a/b/c/d").find("4 segments, expected 5"), std::string::npos);
  EXPECT_NE(msg("a/b/c/d/e/f").find("more than 5"), std::string::npos);
  EXPECT_NE(msg("a//c/d/e").find("segment 2 (area) is empty"), std::string::npos);
  EXPECT_NE(msg("a/b/c/d/sp ace").find("segment 5 (signal) has character 0x20"), std::string::npos);
  EXPECT_NE(msg(std::string(65, 'x') + "/b/c/d/e").find("65 bytes"), std::string::npos);
  EXPECT_FALSE(validate_series_path("").is_ok());
  EXPECT_FALSE(validate_series_path("a/b/c/d/e/").is_ok());
}

TEST(SeriesCatalog, AssignsDenseStableIds) {
  auto catalog = SeriesCatalog::open(":memory:").value();
  EXPECT_EQ(catalog->resolve("p/a/l/m/s1").value(), 1u);
  EXPECT_EQ(catalog->resolve("p/a/l/m/s2", "RPM").value(), 2u);
  EXPECT_EQ(catalog->resolve("p/a/l/m/s1").value(), 1u);
  EXPECT_EQ(catalog->find(2)->path, "p/a/l/m/s2");
  EXPECT_EQ(catalog->find(2)->unit, "RPM");
  EXPECT_EQ(catalog->find("p/a/l/m/s1")->id, 1u);
  EXPECT_FALSE(catalog->find(3));
  EXPECT_FALSE(catalog->find(0));
  EXPECT_TRUE(catalog->contains(2));
  EXPECT_FALSE(catalog->contains(3));
  EXPECT_FALSE(catalog->contains(0));
  EXPECT_EQ(catalog->list().size(), 2u);
  EXPECT_FALSE(catalog->resolve("not/a/path"));
}

TEST(SeriesCatalog, IdsSurviveReopen) {
  const auto dir = std::filesystem::temp_directory_path() / ("catalog_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto catalog = SeriesCatalog::open(dir / "catalog.sqlite").value();
    ASSERT_EQ(catalog->resolve("p/a/l/m/x").value(), 1u);
    ASSERT_EQ(catalog->resolve("p/a/l/m/y").value(), 2u);
  }
  {
    auto catalog = SeriesCatalog::open(dir / "catalog.sqlite").value();
    EXPECT_EQ(catalog->find("p/a/l/m/y")->id, 2u);
    EXPECT_EQ(catalog->resolve("p/a/l/m/z").value(), 3u);
  }
  std::filesystem::remove_all(dir);
}

TEST(SeriesCatalog, OpenFailureNamesTheFile) {
  auto r = SeriesCatalog::open("/nonexistent-dir/x/catalog.sqlite");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/nonexistent-dir/x/catalog.sqlite"), std::string::npos);
}

}  // namespace
}  // namespace resonance
