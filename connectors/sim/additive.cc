// Laser powder-bed fusion machine: a build job purges the chamber with argon (oxygen falls
// exponentially) while the build plate heats, then builds layer after layer (recoat, then
// exposure with the laser switching on and off along the hatches), cools down and is unpacked.
// Model in docs/simulator.md, "Additive manufacturing".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 5> kTable{{
    {"layer_number", "C62"},
    {"build_chamber_oxygen", "P1"},
    {"build_plate_temperature", "CEL"},
    {"laser_power", "WTT"},
    {"build_progress", "P1"},
}};
enum : std::size_t { kLayer, kOxygen, kPlate, kLaser, kProgress };

constexpr double kAirO2 = 20.9, kInertO2 = 0.05, kStartO2 = 0.1;  // % by volume
constexpr double kPlateSetC = 200, kAmbientC = 24, kLaserW = 370;
constexpr double kRecoatS = 8;

class Additive final : public kit::MachineBase {
 public:
  Additive(std::uint64_t seed, double step_s) : MachineBase("additive", kTable, seed, step_s, 0.05) {
    new_job();
  }

 private:
  enum class Phase { kPurge, kRecoat, kExpose, kCool, kUnpack };
  void new_job() {
    layers_total_ = static_cast<int>(rng_.uniform_int(300, 1500));
    layer_ = 0;
    phase_ = Phase::kPurge;
  }

  void advance(double dt) override {
    const bool sealed = phase_ != Phase::kUnpack;
    oxygen_.step(sealed ? kInertO2 : kAirO2, dt);
    plate_.step(phase_ == Phase::kCool || phase_ == Phase::kUnpack ? kAmbientC : kPlateSetC, dt);
    laser_on_ = false;
    left_s_ -= dt;
    switch (phase_) {
      case Phase::kPurge:
        if (oxygen_.value() < kStartO2 && plate_.value() > kPlateSetC - 5) {
          phase_ = Phase::kRecoat;
          left_s_ = kRecoatS;
        }
        break;
      case Phase::kRecoat:
        if (left_s_ <= 0) {
          ++layer_;
          phase_ = Phase::kExpose;
          // Exposure time follows the layer's cross-section.
          left_s_ = rng_.uniform(20, 60);
        }
        break;
      case Phase::kExpose:
        // Hatch vectors with jumps in between: the laser is on about 85 % of the time.
        laser_on_ = rng_.chance(0.85);
        if (left_s_ <= 0) {
          if (layer_ >= layers_total_) {
            phase_ = Phase::kCool;
            left_s_ = rng_.uniform(1800, 3600);
          } else {
            phase_ = Phase::kRecoat;
            left_s_ = kRecoatS;
          }
        }
        break;
      case Phase::kCool:
        if (left_s_ <= 0) {
          phase_ = Phase::kUnpack;
          left_s_ = rng_.uniform(1200, 2400);
        }
        break;
      case Phase::kUnpack:
        if (left_s_ <= 0) new_job();
        break;
    }
  }

  void read() override {
    put(kLayer, layer_);
    put(kOxygen, sense(oxygen_.value(), 0.005, 0.01, 0, 25));
    put(kPlate, sense(plate_.value(), 0.2, 0.1, 0, 1200));
    put(kLaser, laser_on_ ? sense(kLaserW, 2, 0.1, 0, 2000) : 0.0);
    put(kProgress, kit::quantize(100.0 * layer_ / layers_total_, 0.01));
  }

  Phase phase_ = Phase::kPurge;
  double left_s_ = 0;
  int layer_ = 0, layers_total_ = 1;
  bool laser_on_ = false;
  kit::FirstOrderLag oxygen_{kAirO2, 300};
  kit::FirstOrderLag plate_{kAmbientC, 900};
};

}  // namespace

const std::span<const SignalInfo> kAdditiveSignals = kTable;

std::unique_ptr<Machine> make_additive(std::uint64_t seed, double step_s) {
  return std::make_unique<Additive>(seed, step_s);
}

}  // namespace resonance::sim
