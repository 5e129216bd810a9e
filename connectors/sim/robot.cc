// Industrial robot, six axes: a pick-and-place program of point-to-point moves with trapezoidal
// speed profiles (all axes interpolate linearly in joint space, so they start and stop together),
// per-axis torque from gravity on arm and payload plus inertia and friction, per-axis motor
// temperature from copper losses, and program changes with a teach phase at reduced speed.
// Model in docs/simulator.md, "Industrial robot".

#include <array>
#include <cmath>
#include <memory>

#include "connectors/sim/machines.h"
#include "connectors/sim/model_kit.h"

namespace resonance::sim {
namespace {

constexpr std::size_t kAxes = 6;
constexpr std::array<SignalInfo, 3 * kAxes + 4> kTable{{
    {"joint1_position", "DD"}, {"joint1_torque", "NU"}, {"joint1_temperature", "CEL"},
    {"joint2_position", "DD"}, {"joint2_torque", "NU"}, {"joint2_temperature", "CEL"},
    {"joint3_position", "DD"}, {"joint3_torque", "NU"}, {"joint3_temperature", "CEL"},
    {"joint4_position", "DD"}, {"joint4_torque", "NU"}, {"joint4_temperature", "CEL"},
    {"joint5_position", "DD"}, {"joint5_torque", "NU"}, {"joint5_temperature", "CEL"},
    {"joint6_position", "DD"}, {"joint6_torque", "NU"}, {"joint6_temperature", "CEL"},
    {"tcp_speed", "C16"},
    {"program_number", ""},
    {"cycle_count", "C62"},
    {"operational_mode", ""},
}};
// Axis j's position, torque and temperature are at 3 j, 3 j + 1, 3 j + 2.
enum : std::size_t { kTcp = 3 * kAxes, kProgram, kCycles, kMode };
enum Mode { kManualReduced = 1, kAutomaticExternal = 4 };

using Joints = std::array<double, kAxes>;  // degrees
// Taught poses. Axis 5 keeps the gripper pointing down: q5 = -(q2 + q3) - 90.
constexpr Joints kAbovePick{-40, 35, 20, 0, -145, 0};
constexpr Joints kAtPick{-40, 45, 28, 3, -163, 0};
constexpr Joints kAbovePlace{50, 25, 5, -8, -120, 90};
constexpr Joints kAtPlace{50, 33, 12, -8, -135, 90};
constexpr Joints kVia{5, 20, 10, -4, -120, 45};

// One move: TCP path length, the reach (horizontal distance of the TCP from axis 2) and the pose
// at its end, whether the gripper holds the part, and the dwell after it (gripping, releasing).
struct Move { double length_mm, reach_end_m; Joints end; bool holding; double dwell_s; };
constexpr std::array<Move, 8> kCycleMoves{{
    {600, 0.9, kAbovePick, false, 0}, {150, 0.9, kAtPick, false, 0.4},    // above pick, down, grip
    {150, 0.9, kAbovePick, true, 0},  {900, 1.4, kAbovePlace, true, 0},   // up, over to place
    {150, 1.4, kAtPlace, true, 0.3},  {150, 1.4, kAbovePlace, false, 0},  // down, release, up
    {700, 1.1, kVia, false, 0},       {200, 0.9, kAbovePick, false, 0.5}, // back, settle
}};
struct RobotProgram { int number; double payload_kg; double vmax_mm_s; };
constexpr std::array<RobotProgram, 3> kPrograms{{{10, 5, 1500}, {20, 10, 1200}, {30, 2, 2000}}};
constexpr double kAccel = 4000;          // mm/s^2 at the TCP
constexpr double kReducedSpeed = 250;    // ISO 10218-1 limit for manual reduced speed
constexpr double kArmTorque = 25 * 9.81 * 0.5;  // arm mass x g x centre-of-mass reach, N m
constexpr double kInertiaNmPerMmS2 = 0.03;
constexpr double kAmbientC = 24;
constexpr double kDegToRad = kit::kPi / 180;
// Per axis: the torque at which the motor runs 35 K above ambient (copper losses grow with the
// square of the torque), and the Coulomb friction of its gear.
constexpr Joints kHotTorque{150, 300, 120, 20, 25, 10};
constexpr Joints kFriction{15, 20, 12, 3, 3, 2};

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
    q_start_ = q_;
    dwell_left_ = -1;
  }

  void advance(double dt) override {
    const RobotProgram& p = kPrograms[program_];
    double accel = 0;
    Joints deg_per_mm{};  // how far each axis turns per mm of TCP path in the current motion
    if (mode_ == kManualReduced) {
      // Teaching the next program: short jogs of the base axis at reduced speed, pauses between.
      teach_left_s_ -= dt;
      jog_left_s_ -= dt;
      if (jog_left_s_ <= 0) {
        jogging_ = !jogging_ && teach_left_s_ > 0;
        jog_left_s_ = rng_.uniform(2, 10);
        jog_dir_ = q_[0] > 0 ? -1 : 1;
      }
      const double before = tcp_;
      tcp_ = kit::ramp(tcp_, jogging_ ? kReducedSpeed : 0, kAccel / 4, dt);
      accel = (tcp_ - before) / dt;
      deg_per_mm[0] = jog_dir_ * 0.05;
      q_[0] = kit::clamp(q_[0] + deg_per_mm[0] * tcp_ * dt, -170, 170);
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
      const double f = done_mm_ / m.length_mm;
      reach_ = reach_start_ + (m.reach_end_m - reach_start_) * f;
      for (std::size_t j = 0; j < kAxes; ++j) {
        deg_per_mm[j] = (m.end[j] - q_start_[j]) / m.length_mm;
        q_[j] = q_start_[j] + (m.end[j] - q_start_[j]) * f;
      }
      if (done_mm_ >= m.length_mm) {
        tcp_ = 0;
        dwell_left_ = m.dwell_s;
        holding_ = m.holding;
        if (m.dwell_s == 0) next_move();
      }
    }
    const double payload = holding_ ? p.payload_kg : 0;
    const double g = 9.81;
    // Axis j turns at deg_per_mm[j] x the TCP speed; its angular acceleration in rad/s^2 is:
    auto alpha = [&](std::size_t j) { return deg_per_mm[j] * accel * kDegToRad; };
    auto friction = [&](std::size_t j) {
      return tcp_ > 0 && deg_per_mm[j] != 0 ? (deg_per_mm[j] > 0 ? kFriction[j] : -kFriction[j]) : 0.0;
    };
    const double forearm_cos = kit::det_cos((q_[1] + q_[2]) * kDegToRad);
    // Axis 1 carries no gravity load, only the inertia of arm and payload about the base.
    torque_[0] = (30 + payload * reach_ * reach_) * alpha(0) + friction(0);
    // Axis 2 (shoulder) holds arm and payload at the current reach.
    torque_[1] = kArmTorque * reach_ / 0.9 + (2.0 + payload) * g * reach_ +
                 kInertiaNmPerMmS2 * accel + friction(1);
    // Axis 3 (elbow) holds the forearm (12 kg, centre 0.4 m) and the wrist with the payload (0.8 m).
    torque_[2] = (12 * 0.4 + (3 + payload) * 0.8) * g * forearm_cos + 4 * alpha(2) + friction(2);
    torque_[3] = 0.05 * alpha(3) + friction(3);
    // Axis 5 holds gripper and payload, whose centre sits 0.05 m off the axis.
    torque_[4] = (2 + payload) * g * 0.05 + 0.1 * alpha(4) + friction(4);
    torque_[5] = (0.01 + 0.002 * payload) * alpha(5) + friction(5);
    for (std::size_t j = 0; j < kAxes; ++j) {
      const double r = torque_[j] / kHotTorque[j];
      temp_[j].step(kAmbientC + 35 * r * r, dt);
    }
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
    static constexpr Joints kLimit{185, 150, 160, 350, 125, 350};
    static constexpr Joints kMaxTorque{1500, 2500, 1500, 400, 400, 250};
    for (std::size_t j = 0; j < kAxes; ++j) {
      // Encoders read to 0.001 degree; the torque comes from the drive current, noisier.
      put(3 * j, sense(q_[j], 0.002, 0.001, -kLimit[j], kLimit[j]));
      put(3 * j + 1, sense(torque_[j], 0.005 * kMaxTorque[j], 0.1, -kMaxTorque[j], kMaxTorque[j]));
      put(3 * j + 2, sense(temp_[j].value(), 0.05, 0.1, -20, 150));
    }
    put(kTcp, tcp_ > 0 ? sense(tcp_, 2, 0.1, 0, 10000) : 0.0);
    put(kProgram, kPrograms[program_].number);
    put(kCycles, static_cast<double>(cycles_));
    put(kMode, mode_);
  }

  std::size_t program_ = 0, move_ = 0;
  int job_left_ = 0;
  Mode mode_ = kAutomaticExternal;
  double teach_left_s_ = 0, done_mm_ = 0, reach_ = 0.9, reach_start_ = 0.9, dwell_left_ = -1;
  double tcp_ = 0;
  Joints q_ = kAbovePick, q_start_ = kAbovePick, torque_{};
  bool holding_ = false, jogging_ = false;
  double jog_left_s_ = 0, jog_dir_ = 1;
  std::array<kit::FirstOrderLag, kAxes> temp_{{{kAmbientC, 1200}, {kAmbientC, 1200}, {kAmbientC, 1200},
                                              {kAmbientC, 900}, {kAmbientC, 900}, {kAmbientC, 600}}};
  std::uint64_t cycles_ = 0;
};

}  // namespace

const std::span<const SignalInfo> kRobotSignals = kTable;

std::unique_ptr<Machine> make_robot(std::uint64_t seed, double step_s) {
  return std::make_unique<Robot>(seed, step_s);
}

}  // namespace resonance::sim
