// Hydraulic clamping fixture on a machining centre: load a part, clamp (pressure builds through
// the pump, force = pressure x piston area), machine while the circuit slowly leaks and the pump
// tops it up, unclamp, unload. The seating check reads the part's deviation; a chip under the
// part shows as a large one.
// Model in docs/simulator.md, "Fixture".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 5> kTable{{
    {"clamping_force", "B47"},
    {"clamping_pressure", "BAR"},
    {"clamped", ""},
    {"part_present", ""},
    {"seating_deviation", "4H"},
}};
enum : std::size_t { kForce, kPressure, kClamped, kPresent, kSeating };

constexpr double kSetBar = 250, kRetopBar = 240;
constexpr double kPistonAreaM2 = 0.002;           // 20 cm^2: 250 bar = 50 kN
constexpr double kPumpBarPerS = 200, kLeakBarPerS = 1.0 / 60;

class Fixture final : public kit::MachineBase {
 public:
  Fixture(std::uint64_t seed, double step_s) : MachineBase("fixture", kTable, seed, step_s, 0.05) {
    begin(Phase::kLoad, rng_.uniform(5, 10));
  }

 private:
  enum class Phase { kLoad, kClamp, kMachining, kUnclamp, kUnload };
  void begin(Phase p, double s) { phase_ = p; left_s_ = s; }

  void advance(double dt) override {
    left_s_ -= dt;
    switch (phase_) {
      case Phase::kLoad:
        if (left_s_ <= 2) present_ = true;  // the operator or robot sets the part down
        if (left_s_ <= 0) begin(Phase::kClamp, 0);
        break;
      case Phase::kClamp:
        pressure_ = kit::ramp(pressure_, kSetBar, kPumpBarPerS, dt);
        if (pressure_ >= kSetBar) {
          // A chip under the part (a few percent of loads) lifts it by tens of micrometres.
          seating_um_ = rng_.chance(0.03) ? rng_.uniform(40, 150) : 5 + 3 * rng_.normal();
          begin(Phase::kMachining, rng_.uniform(60, 180));
        }
        break;
      case Phase::kMachining:
        pressure_ -= kLeakBarPerS * dt * (1 + 0.2 * rng_.normal());
        if (pressure_ < kRetopBar) pumping_ = true;
        if (pumping_) {
          pressure_ = kit::ramp(pressure_, kSetBar, kPumpBarPerS, dt);
          if (pressure_ >= kSetBar) pumping_ = false;
        }
        if (left_s_ <= 0) begin(Phase::kUnclamp, 0);
        break;
      case Phase::kUnclamp:
        pressure_ = kit::ramp(pressure_, 0, 2 * kPumpBarPerS, dt);
        if (pressure_ <= 0) begin(Phase::kUnload, rng_.uniform(5, 10));
        break;
      case Phase::kUnload:
        if (left_s_ <= 3) present_ = false;
        if (left_s_ <= 0) begin(Phase::kLoad, rng_.uniform(5, 15));
        break;
    }
  }

  void read() override {
    const double force_kn = pressure_ * 1e5 * kPistonAreaM2 / 1000;
    const bool clamped = present_ && pressure_ >= 0.9 * kSetBar;
    put(kForce, force_kn > 0 ? sense(force_kn, 0.05, 0.01, 0, 500) : 0.0);
    put(kPressure, pressure_ > 0 ? sense(pressure_, 0.3, 0.1, 0, 700) : 0.0);
    put(kClamped, clamped ? 1.0 : 0.0);
    put(kPresent, present_ ? 1.0 : 0.0);
    put(kSeating, present_ ? kit::quantize(kit::clamp(seating_um_, -1000, 1000), 0.1) : 0.0);
  }

  Phase phase_ = Phase::kLoad;
  double left_s_ = 0, pressure_ = 0, seating_um_ = 0;
  bool present_ = false, pumping_ = false;
};

}  // namespace

const std::span<const SignalInfo> kFixtureSignals = kTable;

std::unique_ptr<Machine> make_fixture(std::uint64_t seed, double step_s) {
  return std::make_unique<Fixture>(seed, step_s);
}

}  // namespace resonance::sim
