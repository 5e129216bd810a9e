// Industrial robot: a pick-and-place program of straight moves with trapezoidal speed profiles,
// the shoulder joint's (axis 2) torque from gravity on arm and payload plus inertia, its motor
// temperature, and program changes with a teach phase at reduced speed.
// Model in docs/simulator.md, "Industrial robot".

#include <array>
#include <cmath>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::array<SignalInfo, 6> kTable{{
    {"joint_torque", "NU"},
    {"joint_temperature", "CEL"},
    {"tcp_speed", "C16"},
    {"program_number", ""},
    {"cycle_count", "C62"},
    {"operational_mode", ""},
}};
enum : std::size_t { kTorque, kTemp, kTcp, kProgram, kCycles, kMode };
enum Mode { kManualReduced = 1, kAutomaticExternal = 4 };

// One move: length, the reach (horizontal distance of the TCP from axis 2) at its end, whether
// the gripper holds the part, and the dwell after it (gripping, releasing).
struct Move { double length_mm, reach_end_m; bool holding; double dwell_s; };
constexpr std::array<Move, 8> kCycleMoves{{
    {600, 0.9, false, 0}, {150, 0.9, false, 0.4},  // above pick, down, grip
    {150, 0.9, true, 0},  {900, 1.4, true, 0},     // up, over to place
    {150, 1.4, true, 0.3}, {150, 1.4, false, 0},   // down, release, up
    {700, 1.1, false, 0}, {200, 0.9, false, 0.5},  // back, settle (wait for next part)
}};
struct RobotProgram { int number; double payload_kg; double vmax_mm_s; };
constexpr std::array<RobotProgram, 3> kPrograms{{{10, 5, 1500}, {20, 10, 1200}, {30, 2, 2000}}};
constexpr double kAccel = 4000;          // mm/s^2 at the TCP
constexpr double kReducedSpeed = 250;    // ISO 10218-1 limit for manual reduced speed
constexpr double kArmTorque = 25 * 9.81 * 0.5;  // arm mass x g x centre-of-mass reach, N m
constexpr double kInertiaNmPerMmS2 = 0.03;
constexpr double kAmbientC = 24;

class Robot final : public kit::MachineBase {
 public:
  Robot(std::uint64_t seed, double step_s) : MachineBase("robot", kTable, seed, step_s, 0.02) {
    program_ = static_cast<std::size_t>(rng_.uniform_int(0, 2));
    begin_job();
  }

 private:
  void begin_job() {
    job_left_ = static_cast<int>(rng_.uniform_int(200, 600));
    mode_ = kAutomaticExternal;
    start_move(0);
  }
  void start_move(std::size_t i) {
    move_ = i;
    done_mm_ = 0;
    reach_start_ = reach_;
    dwell_left_ = -1;
  }

  void advance(double dt) override {
    const RobotProgram& p = kPrograms[program_];
    double accel = 0;
    if (mode_ == kManualReduced) {
      // Teaching the next program: short jogs at reduced speed, pauses in between.
      teach_left_s_ -= dt;
      jog_left_s_ -= dt;
      if (jog_left_s_ <= 0) {
        jogging_ = !jogging_ && teach_left_s_ > 0;
        jog_left_s_ = rng_.uniform(2, 10);
      }
      const double before = tcp_;
      tcp_ = kit::ramp(tcp_, jogging_ ? kReducedSpeed : 0, kAccel / 4, dt);
      accel = (tcp_ - before) / dt;
      if (teach_left_s_ <= 0 && tcp_ == 0) {
        program_ = (program_ + 1) % kPrograms.size();
        begin_job();
      }
    } else if (dwell_left_ >= 0) {
      dwell_left_ -= dt;
      tcp_ = 0;
      if (dwell_left_ < 0) next_move();
    } else {
      const Move& m = kCycleMoves[move_];
      const double remaining = m.length_mm - done_mm_;
      const double brake = std::sqrt(2 * kAccel * remaining);
      const double before = tcp_;
      tcp_ = kit::ramp(tcp_, std::min(p.vmax_mm_s, std::max(brake, 20.0)), kAccel, dt);
      accel = (tcp_ - before) / dt;
      done_mm_ = std::min(m.length_mm, done_mm_ + tcp_ * dt);
      reach_ = reach_start_ + (m.reach_end_m - reach_start_) * (done_mm_ / m.length_mm);
      if (done_mm_ >= m.length_mm) {
        tcp_ = 0;
        dwell_left_ = m.dwell_s;
        holding_ = m.holding;
        if (m.dwell_s == 0) next_move();
      }
    }
    const double payload = holding_ ? p.payload_kg : 0;
    torque_ = kArmTorque * reach_ / 0.9 + (2.0 + payload) * 9.81 * reach_ + kInertiaNmPerMmS2 * accel;
    // Copper losses grow with the square of the torque.
    temp_.step(kAmbientC + 0.0004 * torque_ * torque_, dt);
  }
  void next_move() {
    if (move_ + 1 < kCycleMoves.size()) {
      start_move(move_ + 1);
      return;
    }
    ++cycles_;
    if (--job_left_ <= 0) {
      mode_ = kManualReduced;
      teach_left_s_ = rng_.uniform(180, 480);
      tcp_ = 0;
      return;
    }
    start_move(0);
  }

  void read() override {
    put(kTorque, sense(torque_, 1.5, 0.1, -5000, 5000));
    put(kTemp, sense(temp_.value(), 0.05, 0.1, -20, 150));
    put(kTcp, tcp_ > 0 ? sense(tcp_, 2, 0.1, 0, 10000) : 0.0);
    put(kProgram, kPrograms[program_].number);
    put(kCycles, static_cast<double>(cycles_));
    put(kMode, mode_);
  }

  std::size_t program_ = 0, move_ = 0;
  int job_left_ = 0;
  Mode mode_ = kAutomaticExternal;
  double teach_left_s_ = 0, done_mm_ = 0, reach_ = 0.9, reach_start_ = 0.9, dwell_left_ = -1;
  double tcp_ = 0, torque_ = 0;
  bool holding_ = false, jogging_ = false;
  double jog_left_s_ = 0;
  kit::FirstOrderLag temp_{kAmbientC, 1200};
  std::uint64_t cycles_ = 0;
};

}  // namespace

const std::span<const SignalInfo> kRobotSignals = kTable;

std::unique_ptr<Machine> make_robot(std::uint64_t seed, double step_s) {
  return std::make_unique<Robot>(seed, step_s);
}

}  // namespace resonance::sim
