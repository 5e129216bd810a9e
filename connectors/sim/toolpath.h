#pragma once
// The toolpath of one part cycle as straight moves, and a follower that advances the tool along
// it in simulated time. Straight lines only: no arcs means no sin/cos, which keeps positions
// bit-identical across C libraries.

#include <cstddef>
#include <vector>

#include "connectors/sim/cnc_physics.h"

namespace resonance::sim {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  bool operator==(const Vec3&) const = default;
};

// The travel limits of the machine in machine coordinates (mm). Z = 0 is the top (home).
inline constexpr Vec3 kEnvelopeMin{0.0, 0.0, -500.0};
inline constexpr Vec3 kEnvelopeMax{800.0, 500.0, 0.0};
// Where the spindle waits during part and tool exchange.
inline constexpr Vec3 kHome{20.0, 480.0, 0.0};
inline constexpr double kRapidMmMin = 20000.0;

enum class Motion { kRapid, kFeed };

struct Segment {
  Vec3 to;
  Motion motion = Motion::kRapid;
  double feed_mm_min = 0;       // for kFeed; rapids use kRapidMmMin
  double depth_of_cut_mm = 0;   // a_p while this move cuts; 0 = in air
  double width_of_cut_mm = 0;   // a_e while this move cuts
  bool cuts() const { return depth_of_cut_mm > 0 && width_of_cut_mm > 0; }
};

// Home -> above the pocket -> for each level: plunge, full-width slot, zig-zag rows at the
// stepover, retract -> home. Every point lies inside the envelope.
std::vector<Segment> build_part_toolpath(const Program& program);

class ToolpathFollower {
 public:
  struct Advance {
    double cut_time_s = 0;        // time spent on cutting moves during this advance
    double distance_mm = 0;
    double x_distance_mm = 0;     // |dx| summed, for the axis heating
    const Segment* segment = nullptr;      // the move the tool is on at the end; null if finished
    const Segment* cut_segment = nullptr;  // the last cutting move travelled, if any
  };

  void start(std::vector<Segment> path, Vec3 from);
  // Moves along the path for `dt_s`. `ready_to_cut` false holds the tool at the start of the next
  // cutting move (the control waits for the spindle to reach speed before it engages).
  Advance advance(double dt_s, bool ready_to_cut);
  bool finished() const { return next_ >= path_.size(); }
  const Vec3& position() const { return position_; }
  // The move the tool is on now (null when finished): what the control would report as active.
  const Segment* current() const { return finished() ? nullptr : &path_[next_]; }

 private:
  std::vector<Segment> path_;
  std::size_t next_ = 0;  // index of the segment being travelled
  Vec3 position_;
};

}  // namespace resonance::sim
