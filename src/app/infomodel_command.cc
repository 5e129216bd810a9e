// `resonance infomodel show|validate|docs|export`: read, check and render the information model
// (infomodel/*.toml, compiled into the binary).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "resonance/infomodel/export.h"
#include "resonance/infomodel/loader.h"

namespace resonance::app {

namespace {

// The model to use: --model DIR when given, else the built-in one.
const infomodel::Model* select_model(const std::string& dir, infomodel::Model& storage) {
  if (dir.empty()) return &infomodel::builtin_model();
  auto loaded = infomodel::load_model_dir(dir);
  if (!loaded) {
    std::cerr << "error: " << loaded.error().message() << "\n";
    set_exit_code(2);
    return nullptr;
  }
  storage = std::move(*loaded);
  return &storage;
}

}  // namespace

void register_infomodel(CLI::App& app) {
  auto* cmd = app.add_subcommand("infomodel", "Show, check and export the information model");
  cmd->require_subcommand(1);
  static std::string model_dir;
  cmd->add_option("--model", model_dir, "Model directory (default: the built-in model)");

  auto* show = cmd->add_subcommand("show", "List the categories and AI interfaces, or one category's signals");
  static std::string category;
  show->add_option("CATEGORY", category, "Category id (e.g. cnc)");
  show->callback([] {
    infomodel::Model storage;
    const auto* model = select_model(model_dir, storage);
    if (model == nullptr) return;
    if (category.empty()) {
      std::cout << infomodel::summary_text(*model);
      return;
    }
    const auto* c = model->find_category(category);
    if (c == nullptr) {
      std::cerr << fmt::format("error: no category '{}' (`resonance infomodel show` lists them)\n", category);
      set_exit_code(2);
      return;
    }
    std::cout << infomodel::category_text(*model, *c);
  });

  auto* validate = cmd->add_subcommand(
      "validate", "Check a model file (with the built-in model) or a model directory; print every problem with file:line:column");
  static std::string file;
  validate->add_option("FILE", file, "A .toml model file or a model directory")->required();
  validate->callback([] {
    auto model = infomodel::validate_path(file);
    if (!model) {
      std::cerr << "error: " << model.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    std::cout << fmt::format("{}: ok (model {}, {} categories, {} AI interfaces)\n", file,
                             model->model_version, model->categories.size(), model->ai_interfaces.size());
  });

  auto* docs = cmd->add_subcommand("docs", "Write the Markdown reference (docs/infomodel/)");
  static std::string out_dir;
  docs->add_option("--out", out_dir, "Output directory")->required();
  docs->callback([] {
    infomodel::Model storage;
    const auto* model = select_model(model_dir, storage);
    if (model == nullptr) return;
    for (const auto& [name, text] : infomodel::generate_docs(*model)) {
      const auto path = std::filesystem::path(out_dir) / name;
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
      if (ec || !out) {
        std::cerr << fmt::format("error: {}: cannot write\n", path.string());
        set_exit_code(1);
        return;
      }
    }
    std::cout << fmt::format("wrote {}\n", out_dir);
  });

  auto* exp = cmd->add_subcommand("export", "Print the model as JSON");
  static bool json = false;
  exp->add_flag("--json", json, "JSON (the only format so far)");
  exp->callback([] {
    infomodel::Model storage;
    const auto* model = select_model(model_dir, storage);
    if (model == nullptr) return;
    std::cout << infomodel::to_json(*model) << "\n";
  });
}

}  // namespace resonance::app
