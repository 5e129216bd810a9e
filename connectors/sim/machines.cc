// The registry of category simulators, and the CNC model behind the Machine interface.

#include "connectors/sim/machines.h"

#include <array>
#include <string>

#include <fmt/format.h>

namespace resonance::sim {
namespace {

class CncAdapter final : public Machine {
 public:
  CncAdapter(std::uint64_t seed, CncConfig config) : machine_(seed, config) {}
  std::string_view category() const override { return "cnc"; }
  std::span<const SignalInfo> signals() const override { return kSignals; }
  std::span<const SignalValue> step() override {
    out_ = machine_.step();
    return out_;
  }

 private:
  CncMachine machine_;
  StepOutput out_{};
};

std::unique_ptr<Machine> make_default_cnc(std::uint64_t seed, double step_s) {
  return make_cnc(seed, step_s, CncConfig{});
}

// Initialised on first use: the signal spans live in other translation units.
const std::array<MachineKind, 12>& kinds() {
  static const std::array<MachineKind, 12> table{{
      {"additive", "am", kAdditiveSignals, &make_additive},
      {"agv", "agv", kAgvSignals, &make_agv},
      {"cnc", "cnc", kSignals, &make_default_cnc},
      {"coating", "coat", kCoatingSignals, &make_coating},
      {"conveyor", "conveyor", kConveyorSignals, &make_conveyor},
      {"fixture", "fixture", kFixtureSignals, &make_fixture},
      {"injection_moulding", "imm", kInjectionMouldingSignals, &make_injection_moulding},
      {"laser_cutting", "laser", kLaserCuttingSignals, &make_laser_cutting},
      {"press", "press", kPressSignals, &make_press},
      {"robot", "robot", kRobotSignals, &make_robot},
      {"vision", "vision", kVisionSignals, &make_vision},
      {"welding", "weld", kWeldingSignals, &make_welding},
  }};
  return table;
}

}  // namespace

std::unique_ptr<Machine> make_cnc(std::uint64_t seed, double step_s, const CncConfig& config) {
  CncConfig c = config;
  c.step_s = step_s;
  return std::make_unique<CncAdapter>(seed, c);
}

std::span<const MachineKind> machine_kinds() { return kinds(); }

const MachineKind* find_machine_kind(std::string_view category) {
  for (const MachineKind& kind : kinds()) {
    if (kind.category == category) return &kind;
  }
  return nullptr;
}

Result<std::unique_ptr<Machine>> make_machine(std::string_view category, std::uint64_t seed,
                                              double step_s, const CncConfig& cnc) {
  if (category == "cnc") return make_cnc(seed, step_s, cnc);
  const MachineKind* kind = find_machine_kind(category);
  if (kind == nullptr) {
    std::string known;
    for (const MachineKind& k : kinds()) known += fmt::format("{}{}", known.empty() ? "" : ", ", k.category);
    return error(StatusCode::kInvalidArgument,
                 fmt::format("sim: no simulator for category '{}' (known: {})", category, known));
  }
  return kind->make(seed, step_s);
}

}  // namespace resonance::sim
