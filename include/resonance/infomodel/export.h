#pragma once
// Machine-readable and human-readable renderings of a loaded model.

#include <map>
#include <string>

#include "resonance/infomodel/model.h"

namespace resonance::infomodel {

// The whole model as JSON (schema in docs/formats/infomodel.md), pretty-printed with `indent`
// spaces (or compact with -1).
std::string to_json(const Model& model, int indent = 2);
// One category as JSON; same shape as an element of "categories" in to_json.
std::string category_to_json(const Model& model, const Category& category, int indent = 2);

// docs/infomodel/: file name -> Markdown. README.md (index and hierarchy), one page per category
// (categories/<id>.md), one crosswalk per standard (crosswalk/<standard>.md), ai_interfaces.md,
// units.md. Deterministic: the same model gives byte-identical pages.
std::map<std::string, std::string> generate_docs(const Model& model);

// A plain-text summary for `resonance infomodel show`.
std::string summary_text(const Model& model);
std::string category_text(const Model& model, const Category& category);

}  // namespace resonance::infomodel
