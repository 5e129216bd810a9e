#include "connectors/sim/cnc_physics.h"

#include <gtest/gtest.h>

#include "connectors/sim/toolpath.h"

namespace resonance::sim {
namespace {

CuttingConditions slot_in_steel() {
  return {.spindle_rpm = 3000, .feed_mm_min = 900, .depth_of_cut_mm = 4, .width_of_cut_mm = 16,
          .tool_diameter_mm = 16, .flutes = 4, .kc11_n_mm2 = 1800};
}

TEST(CncPhysics, CuttingPowerRisesWithWearAtEqualFeedAndSpeed) {
  const auto c = slot_in_steel();
  const double sharp = cutting_power_w(c, 0.0, 1.0);
  const double half = cutting_power_w(c, 0.5, 1.0);
  const double worn = cutting_power_w(c, 1.0, 1.0);
  EXPECT_GT(sharp, 1000.0);  // a 16 mm slot in steel is kilowatts, not watts
  EXPECT_GT(half, sharp);
  EXPECT_GT(worn, half);
  EXPECT_DOUBLE_EQ(worn / sharp, 1.0 + kWearForceGain);
}

TEST(CncPhysics, CuttingPowerFollowsFeedAndSpeed) {
  auto c = slot_in_steel();
  const double base = cutting_power_w(c, 0, 1);
  c.feed_mm_min *= 2;  // more material per minute: more power (less than double: Kienzle)
  const double faster_feed = cutting_power_w(c, 0, 1);
  EXPECT_GT(faster_feed, 1.5 * base);
  EXPECT_LT(faster_feed, 2.0 * base);
  c = slot_in_steel();
  c.spindle_rpm *= 2;  // thinner chips at the same feed: higher specific force, same volume
  const double faster_spindle = cutting_power_w(c, 0, 1);
  EXPECT_GT(faster_spindle, base);
  c.depth_of_cut_mm = 0;
  EXPECT_EQ(cutting_power_w(c, 0, 1), 0.0);
}

TEST(CncPhysics, WearRateReachesLimitAfterNominalToolLife) {
  const Program& p = program_catalogue()[0];
  // Integrate dw/dt at nominal S and F for the nominal life.
  double wear = 0;
  const double dt = 0.5;
  for (double t = 0; t < p.tool_life_min * 60; t += dt) {
    wear += wear_rate_um_per_s(p, p.spindle_rpm, p.feed_mm_min, wear / 300.0, 1.0, 300.0, 1.0) * dt;
  }
  EXPECT_NEAR(wear, 300.0, 3.0);
  EXPECT_GT(wear_rate_um_per_s(p, p.spindle_rpm * 1.2, p.feed_mm_min, 0, 1, 300, 1),
            wear_rate_um_per_s(p, p.spindle_rpm, p.feed_mm_min, 0, 1, 300, 1));
  EXPECT_EQ(wear_rate_um_per_s(p, 0, p.feed_mm_min, 0, 1, 300, 1), 0.0);
}

TEST(CncPhysics, FirstOrderLagApproachesTargetWithoutOvershoot) {
  FirstOrderLag lag(20.0, 900.0);
  double previous = lag.value();
  for (int i = 0; i < 5 * 900 * 2; ++i) {  // five time constants at 0.5 s
    const double v = lag.step(40.0, 0.5);
    ASSERT_GE(v, previous);
    ASSERT_LE(v, 40.0);
    previous = v;
  }
  EXPECT_NEAR(lag.value(), 40.0, 20.0 * 0.01);  // e^-5 < 1 % of the step left
  // Unconditionally stable: a step far longer than tau lands on the target, never beyond.
  FirstOrderLag coarse(20.0, 10.0);
  EXPECT_LE(coarse.step(40.0, 1e6), 40.0);
}

TEST(CncPhysics, EquilibriumTemperaturesRiseWithDuty) {
  EXPECT_DOUBLE_EQ(spindle_equilibrium_c(21, 0, 0), 21.0);
  EXPECT_GT(spindle_equilibrium_c(21, 12000, 40), spindle_equilibrium_c(21, 3000, 40));
  EXPECT_GT(spindle_equilibrium_c(21, 3000, 60), spindle_equilibrium_c(21, 3000, 30));
  EXPECT_GT(axis_equilibrium_c(21, 3000), axis_equilibrium_c(21, 0));
  EXPECT_GT(thermal_drift_target_um(40, 25), thermal_drift_target_um(30, 25));
}

TEST(Toolpath, EveryProgramStaysInsideTheEnvelopeAndCuts) {
  for (const Program& p : program_catalogue()) {
    const auto path = build_part_toolpath(p);
    ASSERT_FALSE(path.empty()) << p.number;
    int cutting = 0;
    for (const Segment& s : path) {
      EXPECT_GE(s.to.x, kEnvelopeMin.x);
      EXPECT_LE(s.to.x, kEnvelopeMax.x);
      EXPECT_GE(s.to.y, kEnvelopeMin.y);
      EXPECT_LE(s.to.y, kEnvelopeMax.y);
      EXPECT_GE(s.to.z, kEnvelopeMin.z);
      EXPECT_LE(s.to.z, kEnvelopeMax.z);
      // Nothing below the pocket floor.
      EXPECT_GE(s.to.z, p.work_top_z_mm - p.pocket_depth_mm - 1e-9) << p.number;
      cutting += s.cuts() ? 1 : 0;
    }
    EXPECT_GT(cutting, 3) << p.number;
    EXPECT_EQ(path.back().to, kHome) << p.number;
  }
}

TEST(Toolpath, FollowerMovesAtFeedAndWaitsForSpindleBeforeCutting) {
  std::vector<Segment> path{
      {.to = {100, 480, 0}, .motion = Motion::kFeed, .feed_mm_min = 600},
      {.to = {200, 480, 0}, .motion = Motion::kFeed, .feed_mm_min = 600, .depth_of_cut_mm = 1,
       .width_of_cut_mm = 5}};
  ToolpathFollower f;
  f.start(path, {20, 480, 0});
  auto a = f.advance(1.0, /*ready_to_cut=*/false);  // 10 mm/s
  EXPECT_DOUBLE_EQ(a.distance_mm, 10.0);
  EXPECT_DOUBLE_EQ(f.position().x, 30.0);
  for (int i = 0; i < 10; ++i) a = f.advance(1.0, false);
  EXPECT_DOUBLE_EQ(f.position().x, 100.0);  // held at the start of the cutting move
  EXPECT_EQ(a.cut_time_s, 0.0);
  a = f.advance(2.0, true);
  EXPECT_DOUBLE_EQ(f.position().x, 120.0);
  EXPECT_DOUBLE_EQ(a.cut_time_s, 2.0);
  EXPECT_NE(a.cut_segment, nullptr);
  for (int i = 0; i < 10; ++i) f.advance(1.0, true);
  EXPECT_TRUE(f.finished());
}

}  // namespace
}  // namespace resonance::sim
