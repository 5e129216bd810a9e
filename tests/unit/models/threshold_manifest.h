#pragma once
// The threshold model on a CNC's spindle load the live-switch tests deploy in several versions.

#include <fmt/format.h>

#include <string>
#include <utility>

#include "resonance/models/manifest.h"

namespace resonance::models::test_support {

inline ModelManifest threshold_manifest(std::string version, double max) {
  ModelManifest m;
  m.name = "load-limit";
  m.version = std::move(version);
  m.interface_id = "anomaly_detection";
  m.backend = "threshold";
  m.task = "binary";
  m.inputs = {{"load", "cnc", "spindle_load", 0, 0, "last"}};
  m.outputs = {{"anomaly_score", infomodel::DataType::kDouble}, {"anomalous", infomodel::DataType::kBool}};
  m.params_json = fmt::format(R"({{"max": {}}})", max);
  m.code_version = "test";
  return m;
}

}  // namespace resonance::models::test_support
