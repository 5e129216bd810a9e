// Vision inspection / measuring station: a part arrives every few seconds, the camera measures a
// key characteristic and looks for surface defects. The upstream process drifts as its tool wears
// (the mean deviation walks up until the tool change), so verdicts turn from good to rework and
// bad as the drift approaches the tolerance.
// Model in docs/simulator.md, "Vision station".

#include <array>
#include <cmath>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 5> kTable{{
    {"inspection_result", ""},
    {"defect_count", "C62"},
    {"measured_deviation", "4H"},
    {"inspection_time", "C26"},
    {"recipe_id", ""},
}};
enum : std::size_t { kResult, kDefects, kDeviation, kTime, kRecipe };
enum Verdict { kNotMeasured = 0, kGood = 1, kBad = 2, kRework = 3 };

constexpr double kToleranceUm = 25;   // +-25 um on the key characteristic
constexpr double kReworkUm = 40;      // oversize up to this can be re-machined
constexpr double kSigmaUm = 4;        // process spread (Cp = 50/24 ~ 2)
constexpr double kDriftPerPartUm = 0.06;

class Vision final : public kit::MachineBase {
 public:
  Vision(std::uint64_t seed, double step_s) : MachineBase("vision", kTable, seed, step_s, 0.05) {
    next_part_s_ = rng_.uniform(8, 15);
    recipe_ = 100 + static_cast<int>(rng_.uniform_int(0, 3));
    parts_to_tool_change_ = static_cast<int>(rng_.uniform_int(300, 600));
    offset_um_ = rng_.uniform(-10, 5);
  }

 private:
  void advance(double dt) override {
    next_part_s_ -= dt;
    if (next_part_s_ > 0) return;
    next_part_s_ = rng_.uniform(8, 15);
    inspect();
  }
  void inspect() {
    offset_um_ += kDriftPerPartUm;
    if (--parts_to_tool_change_ <= 0) {  // the upstream tool is replaced and re-offset
      offset_um_ = rng_.uniform(-10, 0);
      parts_to_tool_change_ = static_cast<int>(rng_.uniform_int(300, 600));
      if (rng_.chance(0.3)) recipe_ = 100 + (recipe_ - 100 + 1) % 4;  // a new part number
    }
    deviation_ = offset_um_ + kSigmaUm * rng_.normal();
    // Surface defects (scratches, porosity): mostly none, rarely one or a few.
    defects_ = rng_.chance(0.02) ? static_cast<int>(rng_.uniform_int(1, 4)) : 0;
    if (defects_ > 0 || deviation_ < -kToleranceUm || deviation_ > kReworkUm) {
      verdict_ = kBad;
    } else if (deviation_ > kToleranceUm) {
      verdict_ = kRework;
    } else {
      verdict_ = kGood;
    }
    time_ms_ = 850 + 40 * rng_.normal() + 60.0 * defects_;  // defects are re-imaged
  }

  void read() override {
    put(kResult, verdict_);
    put(kDefects, defects_);
    put(kDeviation, kit::quantize(kit::clamp(deviation_, -10000, 10000), 0.1));
    put(kTime, kit::quantize(kit::clamp(time_ms_, 0, 600000), 1));
    put(kRecipe, recipe_);
  }

  double next_part_s_ = 0, offset_um_ = 0, deviation_ = 0, time_ms_ = 0;
  int defects_ = 0, recipe_ = 100, parts_to_tool_change_ = 0;
  Verdict verdict_ = kNotMeasured;
};

}  // namespace

const std::span<const SignalInfo> kVisionSignals = kTable;

std::unique_ptr<Machine> make_vision(std::uint64_t seed, double step_s) {
  return std::make_unique<Vision>(seed, step_s);
}

}  // namespace resonance::sim
