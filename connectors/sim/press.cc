// Mechanical stamping press: a crank drives the ram (position = S/2 (1 + cos theta) above bottom
// dead centre), continuous strokes at the die's rate, peak force per stroke from the blank's
// thickness and the die's state, and die changes that stop the press.
// Model in docs/simulator.md, "Press".

#include <array>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 5> kTable{{
    {"press_force", "B47"},
    {"stroke_rate", "RPM"},
    {"ram_position", "MMT"},
    {"stroke_count", "C62"},
    {"die_id", ""},
}};
enum : std::size_t { kForce, kRate, kRam, kCount, kDie };

struct Die { int id; double spm; double nominal_kn; };
constexpr std::array<Die, 3> kDies{{{4711, 40, 2500}, {4712, 60, 1600}, {5120, 25, 4200}}};
constexpr double kStrokeMm = 200;
constexpr double kSpmRampPerS = 20;  // flywheel clutch-in to full rate in a few seconds

class Press final : public kit::MachineBase {
 public:
  Press(std::uint64_t seed, double step_s) : MachineBase("press", kTable, seed, step_s, 0.01) {
    die_ = static_cast<std::size_t>(rng_.uniform_int(0, 2));
    new_coil();
    strokes_left_ = rng_.uniform_int(2000, 6000);
  }

 private:
  void new_coil() { coil_thickness_factor_ = 1 + 0.02 * rng_.normal(); }

  void advance(double dt) override {
    if (change_left_s_ > 0) {  // die change (SMED): ram parked at top dead centre
      change_left_s_ -= dt;
      spm_ = 0;
      if (change_left_s_ <= 0) {
        die_ = (die_ + 1) % kDies.size();
        strokes_left_ = rng_.uniform_int(2000, 6000);
        new_coil();
      }
      return;
    }
    spm_ = kit::ramp(spm_, kDies[die_].spm, kSpmRampPerS, dt);
    const double before = angle_;
    angle_ += 2 * kit::kPi * spm_ / 60 * dt;
    // Bottom dead centre (theta = pi) passed: the stroke's peak force is known.
    const double turn = 2 * kit::kPi;
    const double k_before = std::floor((before - kit::kPi) / turn);
    const double k_after = std::floor((angle_ - kit::kPi) / turn);
    if (k_after > k_before) stroke();
    if (angle_ > turn) angle_ -= turn;
  }
  void stroke() {
    ++strokes_;
    if (rng_.chance(1.0 / 800)) new_coil();
    // Force rises with sheet thickness (squared: bending and drawing) and slowly as the punch
    // edges dull; it is reset by the die service at the next change.
    die_wear_ += 1e-6;
    peak_kn_ = kDies[die_].nominal_kn * coil_thickness_factor_ * coil_thickness_factor_ *
               (1 + die_wear_) * (1 + 0.01 * rng_.normal());
    if (--strokes_left_ <= 0) {
      change_left_s_ = rng_.uniform(600, 1500);
      die_wear_ = 0;
    }
  }

  void read() override {
    put(kForce, kit::quantize(kit::clamp(peak_kn_, 0, 50000), 0.1));
    put(kRate, kit::quantize(spm_, 0.1));
    put(kRam, sense(kStrokeMm / 2 * (1 + kit::det_cos(angle_)), 0.01, 0.01, -10, 2000));
    put(kCount, static_cast<double>(strokes_));
    put(kDie, kDies[die_].id);
  }

  std::size_t die_ = 0;
  std::int64_t strokes_left_ = 0;
  std::uint64_t strokes_ = 0;
  double spm_ = 0, angle_ = 0, peak_kn_ = 0, die_wear_ = 0, coil_thickness_factor_ = 1;
  double change_left_s_ = 0;
};

}  // namespace

const std::span<const SignalInfo> kPressSignals = kTable;

std::unique_ptr<Machine> make_press(std::uint64_t seed, double step_s) {
  return std::make_unique<Press>(seed, step_s);
}

}  // namespace resonance::sim
