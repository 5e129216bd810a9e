// AGV/AMR under a fleet controller: transport missions between stations on a rectilinear aisle
// grid (drive along x, turn on the spot, drive along y), battery discharge by driving power and
// opportunity charging at the charger, protective-field stops counted as errors.
// Model in docs/simulator.md, "AGV/AMR".

#include <array>
#include <cmath>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 11> kTable{{
    {"battery_charge", "P1"},
    {"battery_voltage", "VLT"},
    {"position_x", "MTR"},
    {"position_y", "MTR"},
    {"heading", "DD"},
    {"speed", "MTS"},
    {"driving", ""},
    {"operating_mode", ""},
    {"error_count", "C62"},
    {"load_handling", ""},
    {"load_weight", "KGM"},
}};
enum : std::size_t { kCharge, kVoltage, kX, kY, kHeading, kSpeed, kDriving, kMode, kErrors, kHandling, kWeight };
enum Handling { kIdle = 0, kPicking = 1, kCarrying = 2, kDropping = 3 };
enum Mode { kAutomatic = 0, kManual = 2 };

struct Point { double x, y; };
// Stations of a 60 m x 40 m hall; index 0 is the charger.
constexpr std::array<Point, 7> kStations{{{2, 2}, {10, 35}, {25, 35}, {40, 35}, {55, 20}, {40, 5}, {25, 5}}};
constexpr double kCapacityKwh = 4.8;   // 48 V x 100 Ah
constexpr double kMaxSpeedEmpty = 1.5, kMaxSpeedLoaded = 1.0, kAccel = 0.5;  // m/s, m/s^2
constexpr double kTurnRateDeg = 60;    // deg/s, turning on the spot
constexpr double kChargeKw = 3.0;

class Agv final : public kit::MachineBase {
 public:
  Agv(std::uint64_t seed, double step_s) : MachineBase("agv", kTable, seed, step_s, 0.1) {
    pos_ = kStations[static_cast<std::size_t>(rng_.uniform_int(1, 6))];
    soc_ = rng_.uniform(55, 95);
    next_mission();
  }

 private:
  enum class Task { kDrive, kDwell, kCharge, kHalt };

  void next_mission() {
    // A load on board is delivered first; only an empty vehicle goes to charge.
    if (load_kg_ == 0 && soc_ < 30) {  // the fleet controller sends it to charge first
      goto_station(0, false);
      after_arrival_ = Task::kCharge;
      return;
    }
    std::size_t to = static_cast<std::size_t>(rng_.uniform_int(1, 6));
    goto_station(to, load_kg_ > 0);  // alternate: fetch a load, deliver it
    after_arrival_ = Task::kDwell;
  }
  void goto_station(std::size_t station, bool loaded) {
    target_ = kStations[station];
    loaded_ = loaded;
    leg_ = 0;
    task_ = Task::kDrive;
  }
  // Heading toward the current leg's goal: x first, then y. Only multiples of 90 degrees.
  bool leg_goal(double& goal_heading, double& remaining) const {
    for (int leg = leg_; leg < 2; ++leg) {
      const double d = leg == 0 ? target_.x - pos_.x : target_.y - pos_.y;
      if (std::abs(d) > 0.01) {
        goal_heading = leg == 0 ? (d > 0 ? 0 : 180) : (d > 0 ? 90 : -90);
        remaining = std::abs(d);
        return true;
      }
    }
    return false;
  }

  void advance(double dt) override {
    double power_kw = 0.15;  // controller, scanners
    switch (task_) {
      case Task::kDrive: {
        double goal = 0, remaining = 0;
        if (!leg_goal(goal, remaining)) {
          speed_ = 0;
          task_ = after_arrival_;
          left_s_ = task_ == Task::kDwell ? rng_.uniform(10, 25) : 0;
          // VDA 5050 pick or drop action at the station, by the lift or roller top.
          if (task_ == Task::kDwell) handling_ = loaded_ ? kDropping : kPicking;
          break;
        }
        if (happens(0.6, dt)) {  // a person in the protective field: stop, error, reset
          ++errors_;
          speed_ = 0;
          task_ = Task::kHalt;
          left_s_ = rng_.uniform(20, 120);
          mode_ = kManual;
          break;
        }
        double diff = goal - heading_;
        if (diff > 180) diff -= 360;
        if (diff < -180) diff += 360;
        if (std::abs(diff) > 0.01) {  // stop and turn on the spot
          speed_ = kit::ramp(speed_, 0, kAccel * 2, dt);
          if (speed_ == 0) {
            heading_ += kit::clamp(diff, -kTurnRateDeg * dt, kTurnRateDeg * dt);
            if (heading_ > 180) heading_ -= 360;
            if (heading_ <= -180) heading_ += 360;
            power_kw += 0.2;
          }
        } else {
          heading_ = goal;
          const double vmax = loaded_ ? kMaxSpeedLoaded : kMaxSpeedEmpty;
          // Brake in time: v^2 = 2 a s.
          const double brake = std::sqrt(2 * kAccel * remaining);
          speed_ = kit::ramp(speed_, std::min(vmax, std::max(brake, 0.05)), kAccel, dt);
          const double move = std::min(remaining, speed_ * dt);
          if (goal == 0) pos_.x += move;
          if (goal == 180) pos_.x -= move;
          if (goal == 90) pos_.y += move;
          if (goal == -90) pos_.y -= move;
          if (remaining - move <= 0.01) {
            if (leg_ == 0) pos_.x = target_.x; else pos_.y = target_.y;
            ++leg_;
          }
          power_kw += 0.4 + 0.35 * speed_ * (1.0 + load_kg_ / 1000);
        }
        break;
      }
      case Task::kDwell:  // load transfer by the lift or roller top
        power_kw += 0.3;
        left_s_ -= dt;
        if (left_s_ <= 0) {
          // Euro pallets of parts: 80 to 600 kg.
          load_kg_ = handling_ == kPicking ? rng_.uniform(80, 600) : 0;
          handling_ = load_kg_ > 0 ? kCarrying : kIdle;
          next_mission();
        }
        break;
      case Task::kCharge:
        // Constant current to 80 %, then tapering (constant voltage).
        charge_kw_ = soc_ < 80 ? kChargeKw : kChargeKw * (100 - soc_) / 20;
        soc_ += 100 * charge_kw_ * dt / 3600 / kCapacityKwh;
        if (soc_ >= 90) {
          charge_kw_ = 0;
          next_mission();
        }
        break;
      case Task::kHalt:
        left_s_ -= dt;
        if (left_s_ <= 0) {
          mode_ = kAutomatic;
          task_ = Task::kDrive;
        }
        break;
    }
    if (task_ != Task::kCharge) charge_kw_ = 0;
    drain_kw_ = power_kw;
    soc_ = kit::clamp(soc_ - 100 * power_kw * dt / 3600 / kCapacityKwh, 0, 100);
  }

  void read() override {
    // Open-circuit voltage of a 48 V lithium pack vs state of charge, minus/plus the IR drop.
    const double ocv = 44.0 + 0.1 * soc_;
    const double current = (charge_kw_ - drain_kw_) * 1000 / 48.0;
    put(kCharge, kit::quantize(soc_, 0.1));
    put(kVoltage, sense(ocv + 0.02 * current, 0.02, 0.01, 0, 1000));
    put(kX, sense(pos_.x, 0.005, 0.001, -10000, 10000));
    put(kY, sense(pos_.y, 0.005, 0.001, -10000, 10000));
    put(kHeading, kit::quantize(heading_, 0.1));
    put(kSpeed, speed_ > 0 ? sense(speed_, 0.005, 0.001, 0, 10) : 0.0);
    put(kDriving, speed_ > 0 ? 1.0 : 0.0);
    put(kMode, mode_);
    put(kErrors, std::min(errors_, 1000));
    put(kHandling, handling_);
    // Load cells under the lift read to 0.5 kg.
    put(kWeight, load_kg_ > 0 ? sense(load_kg_, 0.5, 0.5, 0, 5000) : 0.0);
  }

  Point pos_{};
  Point target_{};
  int leg_ = 0;
  double heading_ = 0, speed_ = 0, soc_ = 80, left_s_ = 0, charge_kw_ = 0, drain_kw_ = 0;
  bool loaded_ = false;  // driving with a load (slower)
  double load_kg_ = 0;
  Handling handling_ = kIdle;
  Task task_ = Task::kDrive, after_arrival_ = Task::kDwell;
  Mode mode_ = kAutomatic;
  int errors_ = 0;
};

}  // namespace

const std::span<const SignalInfo> kAgvSignals = kTable;

std::unique_ptr<Machine> make_agv(std::uint64_t seed, double step_s) {
  return std::make_unique<Agv>(seed, step_s);
}

}  // namespace resonance::sim
