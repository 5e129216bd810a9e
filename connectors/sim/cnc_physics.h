#pragma once
// The physics of the simulated machining centre as pure functions, so each law can be tested on
// its own. Only +,-,*,/ and sqrt are used (all exactly rounded by IEEE 754), which is what makes
// the simulator bit-identical across compilers and C libraries. The equations are written out in
// docs/simulator.md.

#include <span>
#include <string_view>

namespace resonance::sim {

inline constexpr double kPi = 3.141592653589793;

// One NC program of the catalogue: a rectangular pocket milled in levels, in zig-zag rows.
struct Program {
  int number = 0;               // O-number, published as program_number
  std::string_view material;
  int tool = 0;                 // T-number of the first tool; sisters are tool + 100 * k
  double tool_diameter_mm = 0;
  int flutes = 0;
  double spindle_rpm = 0;       // S
  double feed_mm_min = 0;       // F
  double depth_of_cut_mm = 0;   // a_p per level
  double stepover_mm = 0;       // a_e per row
  double pocket_x_mm = 0, pocket_y_mm = 0, pocket_depth_mm = 0;
  double work_x_mm = 0, work_y_mm = 0, work_top_z_mm = 0;  // pocket corner, machine coordinates
  double kc11_n_mm2 = 0;        // Kienzle specific cutting force at 1 mm chip thickness
  double tool_life_min = 0;     // nominal cutting minutes until the wear limit at S and F
};

std::span<const Program> program_catalogue();

// What the cutter sees at one instant.
struct CuttingConditions {
  double spindle_rpm = 0;
  double feed_mm_min = 0;
  double depth_of_cut_mm = 0;   // a_p
  double width_of_cut_mm = 0;   // a_e
  double tool_diameter_mm = 0;
  int flutes = 1;
  double kc11_n_mm2 = 0;
};

// How much a worn edge raises the cutting force: at the wear limit the force is (1 + gain) times
// that of a sharp edge.
inline constexpr double kWearForceGain = 0.8;

// Cutting power in W by the Kienzle force law with m_c = 0.25:
//   h_m = f_z * sqrt(a_e / D), k_c = k_c1.1 / h_m^0.25, P = k_c * a_p * a_e * v_f / 60000,
// times (1 + gain * wear_fraction) for the blunt edge and `hardness` for material variation.
double cutting_power_w(const CuttingConditions& c, double wear_fraction, double hardness);

// Spindle drive power that is not cutting: bearing and seal friction growing with speed, plus the
// inertial power J * omega * alpha while the spindle accelerates.
double spindle_idle_power_w(double spindle_rpm);
double spindle_inertial_power_w(double spindle_rpm, double accel_rpm_per_s);

// Flank-wear growth in um/s while cutting. At the program's own S and F it reaches `limit_um`
// after about `tool_life_min` of cutting; faster than nominal wears faster (Taylor: quadratic in
// cutting speed, linear in feed per tooth); a worn edge wears faster (1 + 0.5 * wear_fraction);
// hard material (`hardness` > 1) wears faster in proportion.
double wear_rate_um_per_s(const Program& program, double spindle_rpm, double feed_mm_min,
                          double wear_fraction, double hardness, double limit_um,
                          double tool_life_scale);

// A first-order lag, dy/dt = (target - y) / tau, integrated with backward Euler so it is stable
// and never overshoots for any step: y stays between its start and the targets it has seen.
class FirstOrderLag {
 public:
  FirstOrderLag(double initial, double tau_s) : value_(initial), tau_s_(tau_s) {}
  double step(double target, double dt_s) {
    value_ += (target - value_) * (dt_s / (tau_s_ + dt_s));
    return value_;
  }
  double value() const { return value_; }

 private:
  double value_;
  double tau_s_;
};

// Equilibrium temperatures (degC) the thermal lags move toward.
double spindle_equilibrium_c(double ambient_c, double spindle_rpm, double load_percent);
double axis_equilibrium_c(double ambient_c, double axis_speed_mm_min);
// Thermal growth at the tool tip in um, relative to the 20 degC reference of ISO 1.
double thermal_drift_target_um(double spindle_c, double x_axis_c);

}  // namespace resonance::sim
