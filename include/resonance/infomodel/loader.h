#pragma once
// Loading and checking the model files. Every error names the file, line and column and the
// field: "infomodel/categories/cnc.toml:14:9: signal 'spindle_speed': field 'unit': expected a
// UNECE Rec 20 code of infomodel/units.toml, found 'rpmm'". Loading runs at start-up or from the
// CLI, never on the data path.

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"

namespace resonance::infomodel {

struct SourceFile {
  std::string name;  // what errors call it, e.g. "infomodel/categories/cnc.toml"
  std::string text;
};

// Checks and links a whole model: exactly one file of kind "model", one of kind "units", at most
// one "ai_interfaces", any number of "category". All problems are reported, one per line.
Result<Model> load_model(std::span<const SourceFile> files);

// Reads DIR/model.toml, DIR/units.toml, DIR/ai_interfaces.toml and DIR/categories/*.toml.
// File names in errors are DIR joined with the relative name.
Result<std::vector<SourceFile>> read_model_dir(const std::filesystem::path& dir);
Result<Model> load_model_dir(const std::filesystem::path& dir);

// The model files of the source tree, compiled into the binary (so `resonance infomodel` and
// the API work with no files beside the binary). Named "infomodel/...".
std::span<const SourceFile> builtin_sources();
// The built-in model, loaded once (thread-safe). It is checked by the tests, so failing to load
// it is a build defect: the function aborts with the error.
const Model& builtin_model();

// The built-in model with DIR's files laid over it: DIR/model.toml, DIR/units.toml,
// DIR/ai_interfaces.toml and DIR/categories/*.toml each replace the built-in file of the same
// relative name or, for a new category file, are added. How a plant extends or narrows the model
// without rebuilding (`[infomodel] dir`). Errors name DIR's file, line, column and field.
Result<Model> load_model_overlay(const std::filesystem::path& dir);

// Checks one file in the context of the built-in model: the file replaces the built-in file of the
// same name (e.g. a user's edited cnc.toml) or is added to it (a new category). A directory is
// loaded on its own.
Result<Model> validate_path(const std::filesystem::path& path);

}  // namespace resonance::infomodel
