// Conveyor / PLC line segment: a belt carrying items from the upstream station to the
// downstream one. The motor current follows the load on the belt, power and energy follow the
// current; the segment starves when nothing arrives, blocks when downstream is full, and holds
// while the jam sensor is active. Model in docs/simulator.md, "Conveyor".

#include <array>
#include <deque>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 7> kTable{{
    {"belt_speed", "2X"},
    {"motor_current", "AMP"},
    {"power", "KWT"},
    {"energy", "KWH"},
    {"items_transported", "C62"},
    {"segment_state", ""},
    {"jam", ""},
}};
enum : std::size_t { kSpeed, kCurrent, kPower, kEnergy, kItems, kState, kJam };
enum State { kStopped = 0, kIdle = 1, kExecute = 2, kHeld = 3, kBlocked = 4, kStarved = 5 };

constexpr double kLengthM = 12, kSpeedMMin = 30;
constexpr double kNoLoadA = 2.5, kAmpsPerItem = 0.15;  // 2.2 kW drive at 400 V
constexpr double kVolts = 400, kCosPhi = 0.8, kSqrt3 = 1.7320508075688772;
constexpr double kArrivalsPerS = 0.4;

class Conveyor final : public kit::MachineBase {
 public:
  Conveyor(std::uint64_t seed, double step_s) : MachineBase("conveyor", kTable, seed, step_s, 0.05) {}

 private:
  void advance(double dt) override {
    // Upstream delivers items at random (Bernoulli per sub-step), except in a gap of supply.
    if (supply_gap_s_ > 0) {
      supply_gap_s_ -= dt;
    } else if (happens(2, dt)) {
      supply_gap_s_ = rng_.uniform(60, 300);  // the upstream machine is in changeover
    } else if (state_ != kHeld && state_ != kBlocked && rng_.chance(kArrivalsPerS * dt)) {
      items_.push_back(0);
    }
    if (hold_left_s_ > 0) {
      hold_left_s_ -= dt;
      if (hold_left_s_ <= 0) jam_ = false;
    } else if (state_ == kExecute && happens(0.5, dt)) {
      jam_ = true;  // a tilted box at the transfer: held until someone clears it
      hold_left_s_ = rng_.uniform(60, 300);
    } else if (state_ == kExecute && happens(1, dt)) {
      hold_left_s_ = rng_.uniform(30, 120);  // downstream full
    }
    if (jam_) state_ = kHeld;
    else if (hold_left_s_ > 0) state_ = kBlocked;
    else if (items_.empty()) { starved_s_ += dt; state_ = starved_s_ > 20 ? kStarved : kExecute; }
    else { starved_s_ = 0; state_ = kExecute; }

    const double target = state_ == kExecute ? kSpeedMMin : 0;
    speed_ = kit::ramp(speed_, target, 60, dt);  // soft start over 0.5 s
    const double move_m = speed_ / 60 * dt;
    for (double& pos : items_) pos += move_m;
    while (!items_.empty() && items_.front() >= kLengthM) {
      items_.pop_front();
      ++transported_;
    }
    current_ = speed_ > 0 ? (kNoLoadA + kAmpsPerItem * static_cast<double>(items_.size())) *
                                (0.2 + 0.8 * speed_ / kSpeedMMin)
                          : 0;
    power_kw_ = kSqrt3 * kVolts * current_ * kCosPhi / 1000;
    energy_kwh_ += power_kw_ * dt / 3600;
  }

  void read() override {
    put(kSpeed, speed_ > 0 ? sense(speed_, 0.05, 0.01, 0, 300) : 0.0);
    put(kCurrent, current_ > 0 ? sense(current_, 0.03, 0.01, 0, 500) : 0.0);
    put(kPower, kit::quantize(kit::clamp(power_kw_, 0, 500), 0.001));
    put(kEnergy, kit::quantize(energy_kwh_, 0.001));
    put(kItems, static_cast<double>(transported_));
    put(kState, state_);
    put(kJam, jam_ ? 1.0 : 0.0);
  }

  std::deque<double> items_;  // positions along the belt, m
  double speed_ = 0, current_ = 0, power_kw_ = 0, energy_kwh_ = 0;
  double supply_gap_s_ = 0, hold_left_s_ = 0, starved_s_ = 0;
  std::uint64_t transported_ = 0;
  State state_ = kExecute;
  bool jam_ = false;
};

}  // namespace

const std::span<const SignalInfo> kConveyorSignals = kTable;

std::unique_ptr<Machine> make_conveyor(std::uint64_t seed, double step_s) {
  return std::make_unique<Conveyor>(seed, step_s);
}

}  // namespace resonance::sim
