// Injection moulding machine: a hot barrel and a tempered mould, and the automatic cycle
// close -> inject -> hold (leaves the cushion) -> cool (dosing runs meanwhile) -> open/eject.
// Model in docs/simulator.md, "Injection moulding".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 13> kTable{{
    {"cycle_time", "SEC"},
    {"cushion_volume", "CMQ"},
    {"injection_pressure_max", "BAR"},
    {"injection_time", "SEC"},
    {"dosing_time", "SEC"},
    {"barrel_temperature_zone1", "CEL"},
    {"barrel_temperature_zone2", "CEL"},
    {"barrel_temperature_zone3", "CEL"},
    {"barrel_temperature_zone4", "CEL"},
    {"mould_temperature", "CEL"},
    {"job_cycle_counter", "C62"},
    {"good_parts", "C62"},
    {"machine_mode", ""},
}};
enum : std::size_t { kCycle, kCushion, kPressure, kInjTime, kDoseTime, kBarrel1, kMould = kBarrel1 + 4, kCounter, kGood, kMode };
enum Mode { kAutomatic = 1, kManual = 3, kSetup = 4 };
enum class Phase { kClose, kInject, kHold, kCool, kEject };

// The barrel profile rises from the feed zone (1, cool so the granules do not stick) to the front
// zone (4) at melt temperature; the melt's viscosity follows the front zone.
constexpr std::array<double, 4> kZoneSetC{200, 215, 225, 230};
constexpr double kBarrelSetC = kZoneSetC[3], kMouldSetC = 45, kAmbientC = 25;
constexpr double kCloseS = 1.5, kHoldS = 4.0, kCoolS = 12.0, kEjectS = 2.0;
constexpr double kNominalCushionCm3 = 6.0, kMinCushionCm3 = 1.5;

class InjectionMoulding final : public kit::MachineBase {
 public:
  InjectionMoulding(std::uint64_t seed, double step_s)
      : MachineBase("injection_moulding", kTable, seed, step_s, 0.1) {
    new_job();
  }

 private:
  void new_job() {
    job_cycles_ = static_cast<int>(rng_.uniform_int(300, 800));
    counter_ = 0;
    good_ = 0;
    ring_wear_cm3_ = 0;  // the check ring is serviced with the mould change
    mode_ = kSetup;
    mode_left_s_ = rng_.uniform(600, 1200);
  }
  void start_shot() {
    // Colder melt is more viscous: higher pressure, slower filling.
    const double viscosity = 1.0 + 0.012 * (kBarrelSetC - barrel_[3].value());
    shot_pressure_ = 1100 * viscosity * (1 + 0.015 * rng_.normal());
    shot_inj_s_ = 1.2 * (1 + 0.5 * (viscosity - 1)) * (1 + 0.02 * rng_.normal());
    shot_dose_s_ = 6.5 * (1 + 0.02 * rng_.normal());
    phase_ = Phase::kInject;
    phase_left_s_ = shot_inj_s_;
  }
  void finish_cycle() {
    ring_wear_cm3_ += 0.004;  // a worn check ring lets melt flow back: the cushion shrinks
    cushion_ = kNominalCushionCm3 - ring_wear_cm3_ + 0.15 * rng_.normal();
    ++counter_;
    const bool good = cushion_ >= kMinCushionCm3 && shot_pressure_ < 1400 &&
                      mould_.value() > kMouldSetC - 8 && !rng_.chance(0.008);
    if (good) ++good_;
    last_cycle_s_ = cycle_s_;
    last_pressure_ = shot_pressure_;
    last_inj_s_ = shot_inj_s_;
    last_dose_s_ = shot_dose_s_;
    last_cushion_ = cushion_;
    cycle_s_ = 0;
    if (counter_ >= job_cycles_) new_job();
  }

  void advance(double dt) override {
    // The heaters stay on in every mode modelled here. In production the melt flowing through
    // takes heat from the feed zone and shear heats the front zone a little.
    const double flow = mode_ == kAutomatic ? 1 : 0;
    for (std::size_t z = 0; z < barrel_.size(); ++z)
      barrel_[z].step(kZoneSetC[z] + flow * (z == 0 ? -2.0 : z == 3 ? 1.0 : 0.0), dt);
    // Each shot brings heat into the mould; the temperature unit pulls it back to the set point.
    mould_.step(mode_ == kAutomatic ? kMouldSetC + 8 : kMouldSetC, dt);
    if (mode_ != kAutomatic) {
      mode_left_s_ -= dt;
      if (mode_left_s_ <= 0 && barrel_[3].value() > kBarrelSetC - 3) {
        mode_ = kAutomatic;
        phase_ = Phase::kClose;
        phase_left_s_ = kCloseS;
        cycle_s_ = 0;
      }
      return;
    }
    if (happens(0.5, dt)) {  // a stuck part or a short shot: the setter takes over
      mode_ = kManual;
      mode_left_s_ = rng_.uniform(120, 600);
      return;
    }
    cycle_s_ += dt;
    phase_left_s_ -= dt;
    if (phase_left_s_ > 0) return;
    switch (phase_) {
      case Phase::kClose: start_shot(); break;
      case Phase::kInject: phase_ = Phase::kHold; phase_left_s_ = kHoldS; break;
      case Phase::kHold:
        // Dosing for the next shot runs during cooling and may make it longer.
        phase_ = Phase::kCool;
        phase_left_s_ = std::max(kCoolS, shot_dose_s_ + 0.5);
        break;
      case Phase::kCool: phase_ = Phase::kEject; phase_left_s_ = kEjectS; break;
      case Phase::kEject:
        finish_cycle();
        if (mode_ == kAutomatic) {
          phase_ = Phase::kClose;
          phase_left_s_ = kCloseS;
        }
        break;
    }
  }

  void read() override {
    put(kCycle, kit::quantize(last_cycle_s_, 0.01));
    put(kCushion, kit::quantize(kit::clamp(last_cushion_, 0, 5000), 0.01));
    put(kPressure, kit::quantize(kit::clamp(last_pressure_, 0, 4000), 0.1));
    put(kInjTime, kit::quantize(last_inj_s_, 0.01));
    put(kDoseTime, kit::quantize(last_dose_s_, 0.01));
    for (std::size_t z = 0; z < barrel_.size(); ++z)
      put(kBarrel1 + z, sense(barrel_[z].value(), 0.3, 0.1, 0, 450));
    put(kMould, sense(mould_.value(), 0.2, 0.1, 0, 250));
    put(kCounter, counter_);
    put(kGood, good_);
    put(kMode, mode_);
  }

  Mode mode_ = kSetup;
  double mode_left_s_ = 0;
  Phase phase_ = Phase::kClose;
  double phase_left_s_ = 0;
  double cycle_s_ = 0;
  // The heaters were switched on before the job; the bigger front zones heat up more slowly.
  std::array<kit::FirstOrderLag, 4> barrel_{{{kAmbientC + 150, 500}, {kAmbientC + 150, 550},
                                            {kAmbientC + 150, 600}, {kAmbientC + 150, 650}}};
  kit::FirstOrderLag mould_{kAmbientC, 300};
  int job_cycles_ = 0, counter_ = 0, good_ = 0;
  double ring_wear_cm3_ = 0, cushion_ = 0;
  double shot_pressure_ = 0, shot_inj_s_ = 0, shot_dose_s_ = 0;
  double last_cycle_s_ = 0, last_pressure_ = 0, last_inj_s_ = 0, last_dose_s_ = 0, last_cushion_ = 0;
};

}  // namespace

const std::span<const SignalInfo> kInjectionMouldingSignals = kTable;

std::unique_ptr<Machine> make_injection_moulding(std::uint64_t seed, double step_s) {
  return std::make_unique<InjectionMoulding>(seed, step_s);
}

}  // namespace resonance::sim
