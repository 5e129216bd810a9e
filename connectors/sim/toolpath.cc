#include "connectors/sim/toolpath.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace resonance::sim {
namespace {

constexpr double kClearanceMm = 2.0;       // rapid down to this height above the stock
constexpr double kPlungeFeedFraction = 0.3;  // ramping in at 30 % of F
constexpr double kPlungeDepthFraction = 0.3;

double distance(const Vec3& a, const Vec3& b) {
  const double dx = b.x - a.x, dy = b.y - a.y, dz = b.z - a.z;
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

}  // namespace

std::vector<Segment> build_part_toolpath(const Program& p) {
  std::vector<Segment> path;
  const double radius = p.tool_diameter_mm / 2.0;
  const double x0 = p.work_x_mm + radius;
  const double x1 = p.work_x_mm + p.pocket_x_mm - radius;
  const double y0 = p.work_y_mm + radius;
  const double y_last = p.work_y_mm + p.pocket_y_mm - radius;
  const double clearance_z = p.work_top_z_mm + kClearanceMm;
  const double plunge_feed = p.feed_mm_min * kPlungeFeedFraction;

  path.push_back({.to = {x0, y0, kHome.z}, .motion = Motion::kRapid});
  double cut_bottom = p.work_top_z_mm;
  const double floor_z = p.work_top_z_mm - p.pocket_depth_mm;
  while (cut_bottom > floor_z + 1e-9) {
    const double level_z = std::max(cut_bottom - p.depth_of_cut_mm, floor_z);
    const double ap = cut_bottom - level_z;
    path.push_back({.to = {x0, y0, clearance_z}, .motion = Motion::kRapid});
    path.push_back({.to = {x0, y0, level_z}, .motion = Motion::kFeed, .feed_mm_min = plunge_feed,
                    .depth_of_cut_mm = ap * kPlungeDepthFraction,
                    .width_of_cut_mm = p.tool_diameter_mm});
    // The first row is a full slot; later rows take the stepover, alternating direction.
    double y = y0;
    bool forward = true;
    double width = p.tool_diameter_mm;
    for (;;) {
      path.push_back({.to = {forward ? x1 : x0, y, level_z}, .motion = Motion::kFeed,
                      .feed_mm_min = p.feed_mm_min, .depth_of_cut_mm = ap,
                      .width_of_cut_mm = width});
      forward = !forward;
      if (y >= y_last - 1e-9) break;
      const double next_y = std::min(y + p.stepover_mm, y_last);
      width = next_y - y;
      path.push_back({.to = {forward ? x0 : x1, next_y, level_z}, .motion = Motion::kFeed,
                      .feed_mm_min = p.feed_mm_min, .depth_of_cut_mm = ap,
                      .width_of_cut_mm = width});
      y = next_y;
    }
    path.push_back({.to = {forward ? x0 : x1, y, clearance_z}, .motion = Motion::kRapid});
    cut_bottom = level_z;
  }
  path.push_back({.to = {x0, y0, kHome.z}, .motion = Motion::kRapid});
  path.push_back({.to = kHome, .motion = Motion::kRapid});
  return path;
}

void ToolpathFollower::start(std::vector<Segment> path, Vec3 from) {
  path_ = std::move(path);
  next_ = 0;
  position_ = from;
}

ToolpathFollower::Advance ToolpathFollower::advance(double dt_s, bool ready_to_cut) {
  Advance out;
  double time_left = dt_s;
  while (time_left > 0 && !finished()) {
    const Segment& seg = path_[next_];
    if (seg.cuts() && !ready_to_cut) break;
    const double speed_mm_s =
        (seg.motion == Motion::kRapid ? kRapidMmMin : seg.feed_mm_min) / 60.0;
    const double remaining = distance(position_, seg.to);
    const double reachable = speed_mm_s * time_left;
    if (reachable >= remaining) {
      out.distance_mm += remaining;
      out.x_distance_mm += std::abs(seg.to.x - position_.x);
      if (seg.cuts()) {
        out.cut_time_s += remaining / speed_mm_s;
        out.cut_segment = &seg;
      }
      time_left -= remaining / speed_mm_s;
      position_ = seg.to;
      ++next_;
      continue;
    }
    const double f = reachable / remaining;
    const Vec3 next{position_.x + (seg.to.x - position_.x) * f,
                    position_.y + (seg.to.y - position_.y) * f,
                    position_.z + (seg.to.z - position_.z) * f};
    out.distance_mm += reachable;
    out.x_distance_mm += std::abs(next.x - position_.x);
    if (seg.cuts()) {
      out.cut_time_s += time_left;
      out.cut_segment = &seg;
    }
    position_ = next;
    time_left = 0;
  }
  out.segment = current();
  return out;
}

}  // namespace resonance::sim
