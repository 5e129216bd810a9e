// Fibre laser cutting machine: nesting programs cut contour after contour on a sheet (pierce,
// cut at the material's speed, rapid to the next contour), sheet changes, and rare errors such
// as a nozzle collision. Power, speed, gas and focus come from the material's cutting table.
// Model in docs/simulator.md, "Laser cutting".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 6> kTable{{
    {"laser_power", "KWT"},
    {"cutting_speed", "2X"},
    {"assist_gas_pressure", "BAR"},
    {"focus_position", "MMT"},
    {"laser_state", ""},
    {"program_number", ""},
}};
enum : std::size_t { kPower, kSpeed, kGas, kFocus, kState, kProgram };
enum State { kReady = 0, kActive = 1, kStandby = 2, kError = 3 };

// A cutting-table row: 6 mm mild steel with O2, 4 mm stainless and 3 mm aluminium with N2.
struct Recipe { int program; double kw, m_min, bar, focus_mm; };
constexpr std::array<Recipe, 3> kRecipes{{{1001, 4.0, 2.5, 0.8, 1.0}, {2004, 6.0, 3.5, 15, -2.0}, {3003, 6.0, 6.0, 14, -1.5}}};
constexpr double kPierceS = 0.8, kRapidS = 1.2;

class LaserCutting final : public kit::MachineBase {
 public:
  LaserCutting(std::uint64_t seed, double step_s)
      : MachineBase("laser_cutting", kTable, seed, step_s, 0.05) {
    recipe_ = static_cast<std::size_t>(rng_.uniform_int(0, 2));
    new_sheet();
  }

 private:
  enum class Phase { kPierce, kCut, kRapid, kSheetChange, kError };
  void new_sheet() {
    contours_left_ = static_cast<int>(rng_.uniform_int(15, 60));
    begin(Phase::kRapid, kRapidS);
  }
  void begin(Phase p, double s) { phase_ = p; left_s_ = s; }

  void advance(double dt) override {
    const Recipe& r = kRecipes[recipe_];
    left_s_ -= dt;
    if ((phase_ == Phase::kCut || phase_ == Phase::kPierce) && happens(0.2, dt)) {
      begin(Phase::kError, rng_.uniform(60, 300));  // nozzle collision, lens contamination
    }
    double target_kw = 0, target_speed = 0, target_bar = 0.3;  // gas purge between cuts
    switch (phase_) {
      case Phase::kPierce: target_kw = 0.5 * r.kw; target_bar = r.bar; break;
      case Phase::kCut: target_kw = r.kw; target_speed = r.m_min; target_bar = r.bar; break;
      case Phase::kRapid: break;
      case Phase::kSheetChange: target_bar = 0; break;
      case Phase::kError: target_bar = 0; break;
    }
    kw_ = kit::ramp(kw_, target_kw, 40, dt);          // the source ramps within 0.1-0.2 s
    speed_ = kit::ramp(speed_, target_speed, 60, dt);  // axes: ~1 g is 600 m/min/s; slower in corners
    gas_.step(target_bar, dt);
    if (left_s_ > 0) return;
    switch (phase_) {
      case Phase::kRapid: begin(Phase::kPierce, kPierceS); break;
      case Phase::kPierce: begin(Phase::kCut, rng_.uniform(3, 25)); break;
      case Phase::kCut:
        if (--contours_left_ > 0) {
          begin(Phase::kRapid, kRapidS);
        } else {
          begin(Phase::kSheetChange, rng_.uniform(60, 120));
        }
        break;
      case Phase::kSheetChange:
        if (rng_.chance(0.25)) recipe_ = (recipe_ + 1) % kRecipes.size();  // next nest, maybe new material
        new_sheet();
        break;
      case Phase::kError: new_sheet(); break;
    }
  }

  void read() override {
    const Recipe& r = kRecipes[recipe_];
    State state = kReady;
    if (phase_ == Phase::kError) state = kError;
    else if (phase_ == Phase::kSheetChange) state = kStandby;
    else if (kw_ > 0) state = kActive;
    put(kPower, kw_ > 0 ? sense(kw_, 0.01, 0.001, 0, 40) : 0.0);
    put(kSpeed, speed_ > 0 ? sense(speed_, 0.01, 0.001, 0, 200) : 0.0);
    put(kGas, sense(gas_.value(), 0.01, 0.01, 0, 30));
    put(kFocus, kit::quantize(r.focus_mm, 0.01));
    put(kState, state);
    put(kProgram, r.program);
  }

  std::size_t recipe_ = 0;
  Phase phase_ = Phase::kRapid;
  double left_s_ = 0, kw_ = 0, speed_ = 0;
  int contours_left_ = 0;
  kit::FirstOrderLag gas_{0, 0.3};
};

}  // namespace

const std::span<const SignalInfo> kLaserCuttingSignals = kTable;

std::unique_ptr<Machine> make_laser_cutting(std::uint64_t seed, double step_s) {
  return std::make_unique<LaserCutting>(seed, step_s);
}

}  // namespace resonance::sim
