#include "connectors/sim/cnc_machine.h"

#include <algorithm>
#include <cmath>

namespace resonance::sim {
namespace {

// Thermal time constants: a spindle cartridge settles in tens of minutes, a ball screw and its
// nut slower, and the structure carrying the spindle lags behind the spindle itself.
constexpr double kSpindleTauS = 900.0;
constexpr double kAxisTauS = 1500.0;
constexpr double kDriftTauS = 300.0;
constexpr double kAmbientTauS = 7200.0;
constexpr double kAmbientNoiseC = 0.01;     // per sqrt(s), bounded below
constexpr double kAmbientSwingC = 1.5;
constexpr double kSpindleReadyFraction = 0.98;  // "at speed" window of the control

constexpr int kRandomAlarms[] = {kAlarmCoolantLow, kAlarmDoorInterlock,
                                 kAlarmLubricationPressure, kAlarmServoFollowingError};

// Readings carry the resolution of a real control; std::round is exact, so this keeps
// determinism.
double quantize(double value, double resolution) {
  return std::round(value / resolution) * resolution + 0.0;  // + 0.0 turns -0 into 0
}

double clamp_axis(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

CncMachine::CncMachine(std::uint64_t seed, CncConfig config)
    : config_(config),
      rng_(seed),
      spindle_temp_(config.ambient_c, kSpindleTauS),
      x_axis_temp_(config.ambient_c, kAxisTauS),
      drift_(thermal_drift_target_um(config.ambient_c, config.ambient_c), kDriftTauS) {
  state_.ambient_c = config_.ambient_c;
  state_.spindle_temp_c = config_.ambient_c;
  state_.x_axis_temp_c = config_.ambient_c;
  state_.spindle_equilibrium_c = config_.ambient_c;
  state_.thermal_drift_um = drift_.value();
  begin_job();
  phase_ = Phase::kWaitStart;
  phase_left_s_ = rng_.uniform(config_.wait_start_min_s, config_.wait_start_max_s);
  state_.execution = execution_of(phase_);
}

void CncMachine::begin_job() {
  const auto catalogue = program_catalogue();
  const auto count = static_cast<std::int64_t>(catalogue.size());
  if (program_ == nullptr) {
    program_ = &catalogue[static_cast<std::size_t>(rng_.uniform_int(0, count - 1))];
  } else {
    // A different program from the one just finished: draw among the others.
    const auto current = program_ - catalogue.data();
    auto next = rng_.uniform_int(0, count - 2);
    if (next >= current) ++next;
    program_ = &catalogue[static_cast<std::size_t>(next)];
    ++state_.tool_changes;  // the new program brings its own, fresh tool
  }
  state_.program_number = program_->number;
  state_.parts_in_job =
      static_cast<int>(rng_.uniform_int(config_.parts_per_job_min, config_.parts_per_job_max));
  state_.part_count = 0;
  ++state_.jobs_started;
  sister_ = 0;
  load_tool(/*sister=*/false);
}

void CncMachine::load_tool(bool sister) {
  if (sister) {
    ++sister_;
    ++state_.tool_changes;
  }
  state_.tool_id = program_->tool + 100 * sister_;
  state_.tool_wear_um = 0;
}

void CncMachine::begin_cycle() {
  phase_ = Phase::kCycle;
  follower_.start(build_part_toolpath(*program_), state_.position);
}

void CncMachine::end_cycle() {
  ++state_.part_count;
  ++state_.parts_made;
  phase_ = Phase::kPartExchange;
  phase_left_s_ = rng_.uniform(config_.part_exchange_min_s, config_.part_exchange_max_s);
}

void CncMachine::raise_alarm(int code) {
  if (phase_ == Phase::kAlarm) return;
  resume_phase_ = phase_;
  resume_left_s_ = phase_left_s_;
  phase_ = Phase::kAlarm;
  phase_left_s_ = rng_.uniform(config_.alarm_clear_min_s, config_.alarm_clear_max_s);
  state_.alarm_code = code;
  ++state_.alarms_raised;
  if (code == kAlarmSpindleOverload) ++state_.overload_alarms;
  // The hard spot is behind the tool once the operator restarts.
  state_.hardness = 1.0;
  hard_spot_left_s_ = 0;
  overload_s_ = 0;
}

void CncMachine::advance_phase(double dt) {
  if (phase_ == Phase::kCycle) return;  // the toolpath ends a cycle, not a timer
  phase_left_s_ -= dt;
  if (phase_left_s_ > 0) return;
  switch (phase_) {
    case Phase::kWaitStart:
    case Phase::kToolChange:
      begin_cycle();
      break;
    case Phase::kPartExchange:
      if (state_.part_count >= state_.parts_in_job) {
        phase_ = Phase::kChangeover;
        phase_left_s_ = rng_.uniform(config_.changeover_min_s, config_.changeover_max_s);
      } else if (state_.tool_wear_um >= config_.wear_limit_um) {
        // Tool life is checked at the tool call, as tool management on a control does: the
        // sister tool goes in while the spindle is stopped anyway.
        load_tool(/*sister=*/true);
        phase_ = Phase::kToolChange;
        phase_left_s_ = config_.tool_change_s;
      } else {
        begin_cycle();
      }
      break;
    case Phase::kChangeover:
      begin_job();
      phase_ = Phase::kWaitStart;
      phase_left_s_ = rng_.uniform(config_.wait_start_min_s, config_.wait_start_max_s);
      break;
    case Phase::kAlarm:
      state_.alarm_code = kAlarmNone;
      phase_ = resume_phase_;
      phase_left_s_ = resume_left_s_;
      break;
    case Phase::kCycle:
      break;
  }
}

double CncMachine::target_rpm() const {
  return phase_ == Phase::kCycle ? program_->spindle_rpm : 0.0;
}

ExecutionState CncMachine::execution_of(Phase phase) {
  switch (phase) {
    case Phase::kWaitStart: return ExecutionState::kIdle;
    case Phase::kCycle:
    case Phase::kPartExchange:
    case Phase::kToolChange: return ExecutionState::kRunning;
    case Phase::kAlarm: return ExecutionState::kAlarm;
    case Phase::kChangeover: return ExecutionState::kChangeover;
  }
  return ExecutionState::kIdle;
}

StepOutput CncMachine::step() {
  const double dt = config_.step_s;
  state_.sim_time_s += dt;
  advance_phase(dt);

  // Spindle drive: rate-limited toward the commanded speed (stopped outside a cycle or in alarm).
  const double previous_rpm = state_.spindle_rpm;
  const double max_delta = config_.spindle_accel_rpm_per_s * dt;
  state_.spindle_rpm =
      previous_rpm + std::clamp(target_rpm() - previous_rpm, -max_delta, max_delta);
  const double accel_rpm_per_s = (state_.spindle_rpm - previous_rpm) / dt;

  ToolpathFollower::Advance moved;
  if (phase_ == Phase::kCycle) {
    const bool at_speed = state_.spindle_rpm >= kSpindleReadyFraction * program_->spindle_rpm;
    moved = follower_.advance(dt, at_speed);
    state_.position = follower_.position();
    if (follower_.finished()) end_cycle();
  }
  state_.feed_mm_min = moved.distance_mm / dt * 60.0;
  const double x_speed_mm_min = moved.x_distance_mm / dt * 60.0;
  state_.cutting = moved.cut_time_s > 0;

  // Hard spots: short stretches of harder material that raise force and wear.
  if (hard_spot_left_s_ > 0) {
    hard_spot_left_s_ -= dt;
    if (hard_spot_left_s_ <= 0) state_.hardness = 1.0;
  } else if (state_.cutting &&
             rng_.chance(config_.hard_spots_per_cutting_hour / 3600.0 * moved.cut_time_s)) {
    state_.hardness = rng_.uniform(1.2, 2.0);
    hard_spot_left_s_ = rng_.uniform(0.5, 4.0);
  }

  // Spindle load: cutting power averaged over the part of the step spent cutting, plus friction
  // and the power that accelerates the rotor, as a share of the rated power.
  const double wear_fraction = state_.tool_wear_um / config_.wear_limit_um;
  double cutting_w = 0;
  if (const Segment* cut = moved.cut_segment; cut != nullptr) {
    const CuttingConditions conditions{
        .spindle_rpm = state_.spindle_rpm,
        .feed_mm_min = cut->feed_mm_min,
        .depth_of_cut_mm = cut->depth_of_cut_mm,
        .width_of_cut_mm = cut->width_of_cut_mm,
        .tool_diameter_mm = program_->tool_diameter_mm,
        .flutes = program_->flutes,
        .kc11_n_mm2 = program_->kc11_n_mm2};
    cutting_w = cutting_power_w(conditions, wear_fraction, state_.hardness) *
                (moved.cut_time_s / dt);
    state_.tool_wear_um +=
        wear_rate_um_per_s(*program_, state_.spindle_rpm, cut->feed_mm_min, wear_fraction,
                           state_.hardness, config_.wear_limit_um, config_.tool_life_scale) *
        moved.cut_time_s;
  }
  const double drive_w = cutting_w + spindle_idle_power_w(state_.spindle_rpm) +
                         spindle_inertial_power_w(state_.spindle_rpm, accel_rpm_per_s);
  state_.spindle_load_percent = 100.0 * drive_w / config_.rated_power_w;

  // Alarms: the drive trips on sustained overload; other faults arrive at random while running.
  if (state_.spindle_load_percent >= config_.overload_threshold_percent) {
    overload_s_ += dt;
    if (overload_s_ >= config_.overload_hold_s) raise_alarm(kAlarmSpindleOverload);
  } else {
    overload_s_ = 0;
  }
  if (execution_of(phase_) == ExecutionState::kRunning &&
      rng_.chance(config_.random_alarms_per_running_hour / 3600.0 * dt)) {
    raise_alarm(kRandomAlarms[rng_.uniform_int(0, std::size(kRandomAlarms) - 1)]);
  }

  // Thermal: the shop drifts slowly around its set point; spindle and axis lag toward the
  // equilibrium their current duty would reach; the tool-tip drift lags the temperatures.
  ambient_offset_c_ += -ambient_offset_c_ * (dt / kAmbientTauS) +
                       kAmbientNoiseC * std::sqrt(dt) * rng_.normal();
  ambient_offset_c_ = std::clamp(ambient_offset_c_, -kAmbientSwingC, kAmbientSwingC);
  state_.ambient_c = config_.ambient_c + ambient_offset_c_;
  state_.spindle_equilibrium_c = spindle_equilibrium_c(
      state_.ambient_c, state_.spindle_rpm, state_.spindle_load_percent);
  state_.spindle_temp_c = spindle_temp_.step(state_.spindle_equilibrium_c, dt);
  state_.x_axis_temp_c =
      x_axis_temp_.step(axis_equilibrium_c(state_.ambient_c, x_speed_mm_min), dt);
  state_.thermal_drift_um =
      drift_.step(thermal_drift_target_um(state_.spindle_temp_c, state_.x_axis_temp_c), dt);

  state_.execution = execution_of(phase_);
  return read_signals();
}

StepOutput CncMachine::read_signals() {
  StepOutput out;
  const auto put = [&out](Signal signal, double value) {
    out[index_of(signal)] = {index_of(signal), value};
  };
  const MachineState& s = state_;
  const bool spinning = s.spindle_rpm > 0;
  const bool moving = s.feed_mm_min > 0;

  put(Signal::kSpindleSpeed,
      spinning ? quantize(s.spindle_rpm * (1.0 + 0.001 * rng_.normal()), 1.0) : 0.0);
  put(Signal::kSpindleLoad,
      spinning ? quantize(std::max(0.0, s.spindle_load_percent + 0.5 * rng_.normal()), 0.1)
               : 0.0);
  put(Signal::kFeedRate,
      moving ? quantize(s.feed_mm_min * (1.0 + 0.002 * rng_.normal()), 1.0) : 0.0);
  // Following error grows with speed; at standstill only the encoder count jitters.
  const double jitter_mm = moving ? 0.002 : 0.0005;
  put(Signal::kXPosition,
      quantize(clamp_axis(s.position.x + jitter_mm * rng_.normal(), kEnvelopeMin.x,
                          kEnvelopeMax.x), 0.001));
  put(Signal::kYPosition,
      quantize(clamp_axis(s.position.y + jitter_mm * rng_.normal(), kEnvelopeMin.y,
                          kEnvelopeMax.y), 0.001));
  put(Signal::kZPosition,
      quantize(clamp_axis(s.position.z + jitter_mm * rng_.normal(), kEnvelopeMin.z,
                          kEnvelopeMax.z), 0.001));
  put(Signal::kSpindleTemperature, quantize(s.spindle_temp_c + 0.03 * rng_.normal(), 0.01));
  put(Signal::kXAxisTemperature, quantize(s.x_axis_temp_c + 0.03 * rng_.normal(), 0.01));
  put(Signal::kThermalDrift, quantize(s.thermal_drift_um + 0.2 * rng_.normal(), 0.1));
  put(Signal::kToolId, s.tool_id);
  put(Signal::kToolWear, quantize(s.tool_wear_um, 0.1));
  put(Signal::kProgramNumber, s.program_number);
  put(Signal::kPartCount, s.part_count);
  put(Signal::kAlarmCode, s.alarm_code);
  put(Signal::kExecutionState, static_cast<double>(s.execution));
  return out;
}

}  // namespace resonance::sim
