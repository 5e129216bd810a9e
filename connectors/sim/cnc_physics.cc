#include "connectors/sim/cnc_physics.h"

#include <array>
#include <cmath>

namespace resonance::sim {
namespace {

// Pocket jobs typical of a vertical machining centre with a 5.5 kW spindle. Cutting data are
// handbook values for each material; the first row of every level is a full slot (a_e = D), where
// the load peaks.
constexpr std::array<Program, 4> kCatalogue{{
    {.number = 1001, .material = "S355 steel", .tool = 5, .tool_diameter_mm = 16, .flutes = 4,
     .spindle_rpm = 3000, .feed_mm_min = 900, .depth_of_cut_mm = 4, .stepover_mm = 8,
     .pocket_x_mm = 140, .pocket_y_mm = 90, .pocket_depth_mm = 12,
     .work_x_mm = 300, .work_y_mm = 160, .work_top_z_mm = -320,
     .kc11_n_mm2 = 1800, .tool_life_min = 25},
    {.number = 1002, .material = "EN AW-6082 aluminium", .tool = 12, .tool_diameter_mm = 12,
     .flutes = 3, .spindle_rpm = 12000, .feed_mm_min = 3600, .depth_of_cut_mm = 3,
     .stepover_mm = 6, .pocket_x_mm = 160, .pocket_y_mm = 100, .pocket_depth_mm = 15,
     .work_x_mm = 280, .work_y_mm = 150, .work_top_z_mm = -310,
     .kc11_n_mm2 = 700, .tool_life_min = 60},
    {.number = 1003, .material = "EN-GJL-250 cast iron", .tool = 3, .tool_diameter_mm = 50,
     .flutes = 5, .spindle_rpm = 1500, .feed_mm_min = 800, .depth_of_cut_mm = 2,
     .stepover_mm = 35, .pocket_x_mm = 200, .pocket_y_mm = 150, .pocket_depth_mm = 4,
     .work_x_mm = 250, .work_y_mm = 120, .work_top_z_mm = -330,
     .kc11_n_mm2 = 1100, .tool_life_min = 40},
    {.number = 1004, .material = "1.4404 stainless steel", .tool = 18, .tool_diameter_mm = 10,
     .flutes = 4, .spindle_rpm = 4000, .feed_mm_min = 600, .depth_of_cut_mm = 4,
     .stepover_mm = 5, .pocket_x_mm = 100, .pocket_y_mm = 60, .pocket_depth_mm = 8,
     .work_x_mm = 340, .work_y_mm = 200, .work_top_z_mm = -315,
     .kc11_n_mm2 = 2100, .tool_life_min = 15},
}};

constexpr double kSpindleInertiaKgM2 = 0.004;  // rotor, holder and tool
constexpr double kTwoLnOneAndHalf = 0.8109302162163288;  // 2 ln 1.5, see wear_rate_um_per_s

}  // namespace

std::span<const Program> program_catalogue() { return kCatalogue; }

double cutting_power_w(const CuttingConditions& c, double wear_fraction, double hardness) {
  if (c.spindle_rpm <= 0 || c.feed_mm_min <= 0 || c.depth_of_cut_mm <= 0 ||
      c.width_of_cut_mm <= 0 || c.tool_diameter_mm <= 0 || c.flutes <= 0) {
    return 0.0;
  }
  const double feed_per_tooth_mm = c.feed_mm_min / (c.spindle_rpm * c.flutes);
  const double engagement = c.width_of_cut_mm < c.tool_diameter_mm
                                ? c.width_of_cut_mm / c.tool_diameter_mm
                                : 1.0;
  const double mean_chip_mm = feed_per_tooth_mm * std::sqrt(engagement);
  // h^0.25 as two square roots: exact in IEEE arithmetic, unlike pow().
  const double kc = c.kc11_n_mm2 / std::sqrt(std::sqrt(mean_chip_mm));
  // N/mm^2 * mm * mm * mm/min = N*mm/min; / 60 -> N*mm/s = mW; / 1000 -> W.
  const double power_w =
      kc * c.depth_of_cut_mm * c.width_of_cut_mm * c.feed_mm_min / 60000.0;
  return power_w * (1.0 + kWearForceGain * wear_fraction) * hardness;
}

double spindle_idle_power_w(double spindle_rpm) {
  return spindle_rpm > 0 ? 150.0 + 0.02 * spindle_rpm : 0.0;
}

double spindle_inertial_power_w(double spindle_rpm, double accel_rpm_per_s) {
  if (accel_rpm_per_s <= 0) return 0.0;  // braking energy goes to the brake resistor
  const double omega = spindle_rpm * (2.0 * kPi / 60.0);
  const double alpha = accel_rpm_per_s * (2.0 * kPi / 60.0);
  return kSpindleInertiaKgM2 * omega * alpha;
}

double wear_rate_um_per_s(const Program& program, double spindle_rpm, double feed_mm_min,
                          double wear_fraction, double hardness, double limit_um,
                          double tool_life_scale) {
  if (spindle_rpm <= 0 || feed_mm_min <= 0) return 0.0;
  // dw/dt = r0 (1 + w / 2L) reaches w = L after T when r0 = 2 L ln(1.5) / T.
  const double life_s = program.tool_life_min * 60.0 * tool_life_scale;
  const double r0 = kTwoLnOneAndHalf * limit_um / life_s;
  // (v_c / v_c,nom)^2 * (f_z / f_z,nom) simplifies to (n / n_nom) * (F / F_nom).
  const double speed_ratio = spindle_rpm / program.spindle_rpm;
  const double feed_ratio = feed_mm_min / program.feed_mm_min;
  return r0 * speed_ratio * feed_ratio * (1.0 + 0.5 * wear_fraction) * hardness;
}

double spindle_equilibrium_c(double ambient_c, double spindle_rpm, double load_percent) {
  return ambient_c + 1.6 * (spindle_rpm / 1000.0) + 0.12 * load_percent;
}

double axis_equilibrium_c(double ambient_c, double axis_speed_mm_min) {
  return ambient_c + 0.8 * (axis_speed_mm_min / 1000.0);
}

double thermal_drift_target_um(double spindle_c, double x_axis_c) {
  return 1.1 * (spindle_c - 20.0) + 0.35 * (x_axis_c - 20.0);
}

}  // namespace resonance::sim
