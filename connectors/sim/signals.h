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

// Plain unit strings (the catalog takes UNECE codes or free text); "" means dimensionless.
struct SignalInfo {
  std::string_view name;
  std::string_view unit;
};

inline constexpr std::array<SignalInfo, kSignalCount> kSignals{{
    {"spindle_speed", "rpm"},
    {"spindle_load", "%"},
    {"feed_rate", "mm/min"},
    {"x_position", "mm"},
    {"y_position", "mm"},
    {"z_position", "mm"},
    {"spindle_temperature", "°C"},
    {"x_axis_temperature", "°C"},
    {"thermal_drift", "µm"},
    {"tool_id", ""},
    {"tool_wear", "µm"},
    {"program_number", ""},
    {"part_count", ""},
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
