// Fuzzes the model-file loader: arbitrary bytes as one category file (or any other kind, by its
// `kind` key) next to the built-in model. It must never crash; errors are values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resonance/infomodel/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using resonance::infomodel::SourceFile;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<SourceFile> files;
  // The input replaces the file whose kind it claims, so a fuzzed "model" or "units" file is
  // exercised against real categories too.
  const bool is_units = text.find("\"units\"") != std::string::npos;
  const bool is_model = text.find("\"model\"") != std::string::npos;
  const bool is_ai = text.find("\"ai_interfaces\"") != std::string::npos;
  for (const auto& f : resonance::infomodel::builtin_sources()) {
    if (is_units && f.name.ends_with("units.toml")) continue;
    if (is_model && f.name.ends_with("model.toml")) continue;
    if (is_ai && f.name.ends_with("ai_interfaces.toml")) continue;
    files.push_back(f);
  }
  files.push_back({"fuzz.toml", text});
  auto model = resonance::infomodel::load_model(files);
  (void)model;
  return 0;
}
