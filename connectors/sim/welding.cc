// Robotic MIG/MAG welding cell: seams of a part welded one after another with the robot moving
// in between; a synergic power source sets current and voltage from the wire feed speed; gas
// pre- and post-flow; spatter slowly clogs the nozzle until the cleaning station clears it.
// Model in docs/simulator.md, "Welding cell".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 5> kTable{{
    {"welding_current", "AMP"},
    {"arc_voltage", "VLT"},
    {"wire_feed_speed", "2X"},
    {"gas_flow", "L2"},
    {"seam_count", "C62"},
}};
enum : std::size_t { kCurrent, kVoltage, kWire, kGas, kSeams };

constexpr int kSeamsPerPart = 12;
constexpr double kWireMMin = 8.0, kGasLMin = 15.0, kPreflowS = 0.3, kPostflowS = 1.0;

class Welding final : public kit::MachineBase {
 public:
  Welding(std::uint64_t seed, double step_s) : MachineBase("welding", kTable, seed, step_s, 0.01) {
    parts_left_ = static_cast<int>(rng_.uniform_int(20, 60));
    plan_move();
  }

 private:
  enum class Phase { kMove, kPreflow, kArc, kPostflow, kPartChange };
  void plan_move() { phase_ = Phase::kMove; left_s_ = rng_.uniform(2, 5); }

  void advance(double dt) override {
    left_s_ -= dt;
    const bool gas_on = phase_ == Phase::kPreflow || phase_ == Phase::kArc || phase_ == Phase::kPostflow;
    // The flow meter sees the valve through a short hose: a lag of 0.2 s. Spatter in the
    // nozzle reduces the flow a little per seam.
    gas_.step(gas_on ? kGasLMin * (1 - clog_) : 0, dt);
    if (phase_ == Phase::kArc) arc_s_ += dt;
    if (left_s_ > 0) return;
    switch (phase_) {
      case Phase::kMove: phase_ = Phase::kPreflow; left_s_ = kPreflowS; break;
      case Phase::kPreflow:
        phase_ = Phase::kArc;
        left_s_ = rng_.uniform(6, 20);  // seam length / travel speed
        break;
      case Phase::kArc:
        phase_ = Phase::kPostflow;
        left_s_ = kPostflowS;
        ++seams_;
        clog_ = std::min(0.3, clog_ + 0.004);
        break;
      case Phase::kPostflow:
        if (seams_ % kSeamsPerPart == 0) {
          phase_ = Phase::kPartChange;  // unload, reload, nozzle cleaning
          left_s_ = rng_.uniform(20, 40);
          clog_ = 0;
        } else {
          plan_move();
        }
        break;
      case Phase::kPartChange:
        if (--parts_left_ <= 0) {  // a new job: the seam counter restarts
          seams_ = 0;
          parts_left_ = static_cast<int>(rng_.uniform_int(20, 60));
        }
        plan_move();
        break;
    }
  }

  void read() override {
    if (phase_ == Phase::kArc) {
      // Synergic line for 1.2 mm G3Si1 wire in M21 gas: I ~ 30 A + 25 A per m/min of wire, and
      // the IIW conventional load line U = 14 V + 0.05 V/A. Short-circuit transfer makes both
      // fluctuate by several percent.
      const double wire = kWireMMin * (1 + 0.005 * rng_.normal());
      const double current = (30 + 25 * wire) * (1 + 0.04 * rng_.normal());
      put(kWire, kit::quantize(wire, 0.01));
      put(kCurrent, kit::quantize(kit::clamp(current, 0, 50000), 0.1));
      put(kVoltage, kit::quantize(kit::clamp((14 + 0.05 * current) * (1 + 0.02 * rng_.normal()), 0, 100), 0.01));
    } else {
      put(kWire, 0.0);
      put(kCurrent, 0.0);
      put(kVoltage, 0.0);
    }
    put(kGas, gas_.value() > 0.05 ? sense(gas_.value(), 0.1, 0.1, 0, 50) : 0.0);
    put(kSeams, seams_);
  }

  Phase phase_ = Phase::kMove;
  double left_s_ = 0, arc_s_ = 0, clog_ = 0;
  int seams_ = 0, parts_left_ = 0;
  kit::FirstOrderLag gas_{0, 0.2};
};

}  // namespace

const std::span<const SignalInfo> kWeldingSignals = kTable;

std::unique_ptr<Machine> make_welding(std::uint64_t seed, double step_s) {
  return std::make_unique<Welding>(seed, step_s);
}

}  // namespace resonance::sim
