#pragma once
// The simulators of the twelve information-model categories, one file each, and the registry
// that makes them by category id. Each simulator's signals() are exactly the signals of
// infomodel/categories/<category>.toml, in that file's order (tests/unit/sim/machines_test.cc
// checks names, units, types and ranges against the loaded model).

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "connectors/sim/cnc_machine.h"
#include "connectors/sim/machine.h"
#include "resonance/core/status.h"

namespace resonance::sim {

using MachineFactory = std::unique_ptr<Machine> (*)(std::uint64_t seed, double step_s);

struct MachineKind {
  std::string_view category;          // infomodel category id
  std::string_view equipment_prefix;  // default equipment names: "<prefix>-01", ...
  std::span<const SignalInfo> signals;
  MachineFactory make;
};

// Every kind, ordered by category id.
std::span<const MachineKind> machine_kinds();
const MachineKind* find_machine_kind(std::string_view category);

// A machine of `category` stepping `step_s` simulated seconds; `cnc` configures the CNC model
// (its step_s is replaced). Unknown category: kInvalidArgument listing the known ones.
Result<std::unique_ptr<Machine>> make_machine(std::string_view category, std::uint64_t seed,
                                              double step_s, const CncConfig& cnc = {});

// The CncMachine behind the Machine interface.
std::unique_ptr<Machine> make_cnc(std::uint64_t seed, double step_s, const CncConfig& config);

// One factory per category (files named after the category).
std::unique_ptr<Machine> make_injection_moulding(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_agv(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_robot(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_coating(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_press(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_welding(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_laser_cutting(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_fixture(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_additive(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_vision(std::uint64_t seed, double step_s);
std::unique_ptr<Machine> make_conveyor(std::uint64_t seed, double step_s);

// Signal tables (defined in each category's file).
extern const std::span<const SignalInfo> kInjectionMouldingSignals;
extern const std::span<const SignalInfo> kAgvSignals;
extern const std::span<const SignalInfo> kRobotSignals;
extern const std::span<const SignalInfo> kCoatingSignals;
extern const std::span<const SignalInfo> kPressSignals;
extern const std::span<const SignalInfo> kWeldingSignals;
extern const std::span<const SignalInfo> kLaserCuttingSignals;
extern const std::span<const SignalInfo> kFixtureSignals;
extern const std::span<const SignalInfo> kAdditiveSignals;
extern const std::span<const SignalInfo> kVisionSignals;
extern const std::span<const SignalInfo> kConveyorSignals;

}  // namespace resonance::sim
