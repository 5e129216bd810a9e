#pragma once
// A deterministic model of a 3-axis CNC machining centre running pocket-milling jobs: spindle and
// feed drives, toolpath, cutting load, tool wear and tool changes, first-order thermal behaviour,
// jobs and changeovers, and alarms. It steps in simulated time and knows nothing about clocks or
// networks (the runner does), so tests can run hours of machine time in milliseconds.
//
// Determinism: the whole trajectory is a function of (seed, config). Randomness comes only from
// the self-contained Rng in prng.h, and the arithmetic avoids libm transcendental functions, so
// the same seed gives bit-identical values on any IEEE-754 platform and standard library.
// Not thread-safe: one machine per thread (or external locking).

#include <array>
#include <cstdint>
#include <span>

#include "connectors/sim/cnc_physics.h"
#include "connectors/sim/machine.h"
#include "connectors/sim/prng.h"
#include "connectors/sim/signals.h"
#include "connectors/sim/toolpath.h"

namespace resonance::sim {

// Tunables. The defaults describe a plausible shop floor; tests shorten tool life, jobs and
// changeovers or raise event rates to see many events in little simulated time.
struct CncConfig {
  double step_s = 0.5;                   // simulated time per step()
  int parts_per_job_min = 4;
  int parts_per_job_max = 12;
  double changeover_min_s = 300;
  double changeover_max_s = 900;
  double wait_start_min_s = 10;          // idle between changeover and cycle start
  double wait_start_max_s = 120;
  double part_exchange_min_s = 15;       // unload/load between parts, spindle stopped
  double part_exchange_max_s = 30;
  double tool_change_s = 8;
  double wear_limit_um = 300;            // ISO 3685 flank-wear criterion VB = 0.3 mm
  double tool_life_scale = 1.0;          // multiplies every program's nominal tool life
  double rated_power_w = 5500;           // spindle power that reads as 100 % load
  double overload_threshold_percent = 120;
  double overload_hold_s = 1.0;          // load must stay above the threshold this long
  double hard_spots_per_cutting_hour = 12;  // inclusions and scale raising the force briefly
  double random_alarms_per_running_hour = 0.3;
  double alarm_clear_min_s = 30;         // operator reaction and reset
  double alarm_clear_max_s = 240;
  double ambient_c = 21.0;
  double spindle_accel_rpm_per_s = 4000;
};

// Everything the model knows, for tests and diagnostics. Values are the true (noise-free) state;
// step() reports them with sensor noise and the resolution of a real control.
struct MachineState {
  double sim_time_s = 0;
  ExecutionState execution = ExecutionState::kIdle;
  int program_number = 0;
  int parts_in_job = 0;          // the job's target
  int part_count = 0;            // parts finished in the current job
  int tool_id = 0;
  double tool_wear_um = 0;
  double spindle_rpm = 0;
  double spindle_load_percent = 0;
  double feed_mm_min = 0;        // path speed over the last step
  Vec3 position = kHome;
  double ambient_c = 0;
  double spindle_temp_c = 0;
  double x_axis_temp_c = 0;
  double thermal_drift_um = 0;
  double spindle_equilibrium_c = 0;  // where the spindle temperature is heading
  int alarm_code = kAlarmNone;
  bool cutting = false;          // a cutting move was active during the last step
  double hardness = 1.0;         // > 1 while a hard spot is being cut
  // Event counters since construction.
  std::uint64_t jobs_started = 0;
  std::uint64_t parts_made = 0;
  std::uint64_t tool_changes = 0;
  std::uint64_t alarms_raised = 0;
  std::uint64_t overload_alarms = 0;
};

using StepOutput = std::array<SignalValue, kSignalCount>;

class CncMachine {
 public:
  explicit CncMachine(std::uint64_t seed, CncConfig config = {});

  static std::span<const SignalInfo> signals() { return kSignals; }

  // Advances the model by config.step_s and returns every signal's reading at the end of it.
  StepOutput step();

  const MachineState& state() const { return state_; }
  const CncConfig& config() const { return config_; }
  const Program& program() const { return *program_; }

 private:
  enum class Phase { kWaitStart, kCycle, kPartExchange, kToolChange, kAlarm, kChangeover };

  void advance_phase(double dt);
  void begin_job();
  void begin_cycle();
  void end_cycle();
  void load_tool(bool sister);
  void raise_alarm(int code);
  double target_rpm() const;
  StepOutput read_signals();
  static ExecutionState execution_of(Phase phase);

  CncConfig config_;
  Rng rng_;
  MachineState state_;
  const Program* program_ = nullptr;
  int sister_ = 0;  // how many times the current program's tool was replaced
  Phase phase_ = Phase::kWaitStart;
  Phase resume_phase_ = Phase::kWaitStart;  // where an alarm returns to when cleared
  double phase_left_s_ = 0;                 // time left in timed phases
  double resume_left_s_ = 0;                // phase_left_s_ of the phase an alarm interrupted
  double overload_s_ = 0;                   // how long the load has been above the threshold
  double hard_spot_left_s_ = 0;
  ToolpathFollower follower_;
  FirstOrderLag spindle_temp_;
  FirstOrderLag x_axis_temp_;
  FirstOrderLag drift_;
  double ambient_offset_c_ = 0;
};

}  // namespace resonance::sim
