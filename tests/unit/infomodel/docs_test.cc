// docs/infomodel/ is generated from the model; a stale copy misleads users.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "resonance/infomodel/export.h"
#include "resonance/infomodel/loader.h"

namespace resonance::infomodel {
namespace {

TEST(InfoModelDocs, GeneratedDocsAreCurrent) {
  const std::filesystem::path dir = std::filesystem::path(RESONANCE_SOURCE_DIR) / "docs/infomodel";
  const auto pages = generate_docs(builtin_model());
  for (const auto& [name, text] : pages) {
    std::ifstream in(dir / name, std::ios::binary);
    ASSERT_TRUE(in) << "docs/infomodel/" << name << " is missing: regenerate with "
                    << "`resonance infomodel docs --out docs/infomodel`";
    std::ostringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), text) << "docs/infomodel/" << name << " is stale: regenerate with "
                              << "`resonance infomodel docs --out docs/infomodel`";
  }
  // No page left behind for a category or standard that no longer exists.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto rel = std::filesystem::relative(entry.path(), dir).generic_string();
    EXPECT_TRUE(pages.contains(rel)) << "docs/infomodel/" << rel << " is not generated any more";
  }
}

TEST(InfoModelDocs, PagesCoverEveryCategoryAndStandard) {
  const auto pages = generate_docs(builtin_model());
  EXPECT_TRUE(pages.contains("categories/cnc.md"));
  EXPECT_TRUE(pages.contains("crosswalk/vda5050.md"));
  EXPECT_TRUE(pages.contains("ai_interfaces.md"));
  EXPECT_NE(pages.at("categories/cnc.md").find("`spindle_speed`"), std::string::npos);
  EXPECT_NE(pages.at("README.md").find("not yet published"), std::string::npos);
}

}  // namespace
}  // namespace resonance::infomodel
