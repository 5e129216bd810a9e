// Coating/spraying line: a rotary-bell painting robot coats one part per conveyor pitch; the
// booth air is conditioned, the curing oven held at its set point, and the dry film thickness
// measured after the oven follows flow, bell speed and humidity. Colour changes flush the bell.
// Model in docs/simulator.md, "Coating line".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 6> kTable{{
    {"paint_flow", "41"},
    {"atomizer_speed", "RPM"},
    {"booth_temperature", "CEL"},
    {"booth_humidity", "P1"},
    {"oven_temperature", "CEL"},
    {"film_thickness", "4H"},
}};
enum : std::size_t { kFlow, kBell, kBoothT, kBoothRh, kOven, kFilm };

constexpr double kPitchS = 60, kSprayS = 40, kColourChangeS = 90;
constexpr double kFlowMlMin = 300, kBellSprayRpm = 45000, kBellIdleRpm = 20000;
constexpr double kOvenSetC = 180, kNominalFilmUm = 60;

class Coating final : public kit::MachineBase {
 public:
  Coating(std::uint64_t seed, double step_s) : MachineBase("coating", kTable, seed, step_s, 0.1) {
    parts_left_ = static_cast<int>(rng_.uniform_int(20, 60));
  }

 private:
  void advance(double dt) override {
    // Booth climate: slow mean-reverting walks around 23 degC / 65 % r.h.
    temp_off_ += -temp_off_ * dt / 1800 + 0.02 * rng_.normal() * std::min(dt, 1.0);
    rh_off_ += -rh_off_ * dt / 1800 + 0.08 * rng_.normal() * std::min(dt, 1.0);
    temp_off_ = kit::clamp(temp_off_, -1.5, 1.5);
    rh_off_ = kit::clamp(rh_off_, -6, 6);
    oven_.step(kOvenSetC, dt);

    t_in_pitch_ += dt;
    const bool flushing = colour_change_left_s_ > 0;
    if (flushing) colour_change_left_s_ -= dt;
    const bool spraying = !flushing && t_in_pitch_ < kSprayS;
    flow_ = kit::ramp(flow_, spraying ? flow_set_ : 0, 600, dt);
    bell_ = kit::ramp(bell_, spraying ? kBellSprayRpm : kBellIdleRpm, 15000, dt);
    if (spraying) applied_ml_ += flow_ * dt / 60;
    if (t_in_pitch_ >= kPitchS) {
      t_in_pitch_ = 0;
      if (!flushing) finish_part();
    }
  }
  void finish_part() {
    // Film build follows the applied volume; humid air slows solvent release and lowers the
    // transfer efficiency a little.
    const double nominal_ml = kFlowMlMin * kSprayS / 60;
    const double efficiency = 1 - 0.004 * (rh_off_);
    film_ = kNominalFilmUm * (applied_ml_ / nominal_ml) * efficiency + 1.5 * rng_.normal();
    applied_ml_ = 0;
    // The closed loop trims the flow toward the film target (a slow integral action).
    flow_set_ = kit::clamp(flow_set_ * (1 + 0.1 * (kNominalFilmUm - film_) / kNominalFilmUm),
                           0.8 * kFlowMlMin, 1.2 * kFlowMlMin);
    if (--parts_left_ <= 0) {
      colour_change_left_s_ = kColourChangeS;
      parts_left_ = static_cast<int>(rng_.uniform_int(20, 60));
    }
  }

  void read() override {
    put(kFlow, flow_ > 0 ? sense(flow_, 2, 0.1, 0, 5000) : 0.0);
    put(kBell, sense(bell_, 50, 1, 0, 80000));
    put(kBoothT, sense(23 + temp_off_, 0.05, 0.01, -10, 60));
    put(kBoothRh, sense(65 + rh_off_, 0.3, 0.1, 0, 100));
    put(kOven, sense(oven_.value(), 0.3, 0.1, 0, 400));
    put(kFilm, kit::quantize(kit::clamp(film_, 0, 1000), 0.1));
  }

  double t_in_pitch_ = 0, flow_ = 0, flow_set_ = kFlowMlMin, bell_ = kBellIdleRpm, applied_ml_ = 0;
  double temp_off_ = 0, rh_off_ = 0, film_ = 0, colour_change_left_s_ = 0;
  int parts_left_ = 0;
  kit::FirstOrderLag oven_{120, 900};  // the oven is still heating up at the start of the shift
};

}  // namespace

const std::span<const SignalInfo> kCoatingSignals = kTable;

std::unique_ptr<Machine> make_coating(std::uint64_t seed, double step_s) {
  return std::make_unique<Coating>(seed, step_s);
}

}  // namespace resonance::sim
