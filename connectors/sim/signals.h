#pragma once
// The signals a simulated CNC machining centre publishes, in index order. The index is what
// CncMachine::step() reports and what the runner maps to an MQTT-SN topic id; the name is the last
// segment of the series path ("plant1/machining/line1/cnc-01/spindle_speed").

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace resonance::sim {

enum class Signal : std::uint8_t {
  kSpindleSpeed,
  kSpindleLoad,
  kFeedRate,
  kXPosition,
  kYPosition,
  kZPosition,
  kSpindleTemperature,
  kXAxisTemperature,
  kThermalDrift,
  kToolId,
  kToolWear,
  kProgramNumber,
  kPartCount,
  kAlarmCode,
  kExecutionState,
};
inline constexpr std::size_t kSignalCount = 15;

// Units are UNECE Rec 20 codes, as in infomodel/categories/cnc.toml (RPM = r/min, P1 = %, H81 =
// mm/min, MMT = mm, CEL = degC, 4H = um, C62 = one); "" means no engineering unit (ids, states).
struct SignalInfo {
  std::string_view name;
  std::string_view unit;
};

inline constexpr std::array<SignalInfo, kSignalCount> kSignals{{
    {"spindle_speed", "RPM"},
    {"spindle_load", "P1"},
    {"feed_rate", "H81"},
    {"x_position", "MMT"},
    {"y_position", "MMT"},
    {"z_position", "MMT"},
    {"spindle_temperature", "CEL"},
    {"x_axis_temperature", "CEL"},
    {"thermal_drift", "4H"},
    {"tool_id", ""},
    {"tool_wear", "4H"},
    {"program_number", ""},
    {"part_count", "C62"},
    {"alarm_code", ""},
    {"execution_state", ""},
}};

constexpr std::size_t index_of(Signal signal) { return static_cast<std::size_t>(signal); }

// Values of the execution_state signal.
enum class ExecutionState : std::uint8_t { kIdle = 0, kRunning = 1, kAlarm = 2, kChangeover = 3 };

// Values of alarm_code (0 = no alarm). Numbers in the style of a control's alarm list.
inline constexpr int kAlarmNone = 0;
inline constexpr int kAlarmSpindleOverload = 1001;
inline constexpr int kAlarmCoolantLow = 2010;
inline constexpr int kAlarmDoorInterlock = 2020;
inline constexpr int kAlarmLubricationPressure = 2030;
inline constexpr int kAlarmServoFollowingError = 3005;

}  // namespace resonance::sim
