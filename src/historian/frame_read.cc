// HistorianImpl::frame: each series' sources (chunk-file chunks, sealed head chunks, the open
// samples) streamed into its frame column in time order, decoded into a reused scratch, without
// building the Sample vector range() answers with.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "historian/codec.h"
#include "historian/frame_fill.h"
#include "historian/historian_impl.h"

namespace resonance::historian {
namespace {

// One chunk-file chunk into `column`. A regular timestamp block (the common case) is not decoded
// (add_grid); the checks are decode_chunk's (ascending timestamps, first and last equal to t_min
// and t_max), as aggregate_chunk makes them.
Status feed_chunk(const ChunkView& c, ChunkColumns& scratch, FrameColumn& column) {
  const std::size_t n = c.header.count;
  if (n == 0) return Status::ok();
  scratch.values.resize(n);
  scratch.quality.resize(n);
  if (Status s = codec::decode_values(c.value_block, scratch.values); !s) return s;
  if (Status s = codec::decode_quality(c.quality_block, scratch.quality); !s) return s;
  std::int64_t t0 = 0, step = 0;
  if (chunk_grid(c, t0, step)) {
    column.add_grid(t0, step, scratch.values, scratch.quality);
    return Status::ok();
  }
  scratch.ts.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, scratch.ts, c.ts_base); !s) return s;
  if (Status s = check_chunk_timestamps(c, scratch.ts); !s) return s;
  column.add(scratch.ts, scratch.values, scratch.quality);
  return Status::ok();
}

}  // namespace

Frame HistorianImpl::frame(const FrameRequest& req) const {
  return build_frame(req, [this](SeriesId series, TimestampNs lo, TimestampNs hi, FrameColumn& column,
                                 ChunkColumns& scratch) {
    const SeriesSources src = sources(series, lo, hi);
    const std::vector<TimedSource> ordered = in_time_order(src);
    if (any_overlap(ordered)) {
      // range()'s last-write-wins merge; rare, so its Sample vector is paid here only.
      column.add(range(series, lo, hi, std::numeric_limits<std::size_t>::max()));
      return;
    }
    for (const TimedSource& s : ordered) {
      if (s.file != nullptr) {
        // A damaged chunk is left out, as range() leaves it out.
        if (Status st = feed_chunk(*s.file, scratch, column); !st)
          spdlog::error("historian: series {}: {}", series, st.to_string());
      } else if (s.head != nullptr) {
        column.add(s.head->ts_ns, s.head->values, s.head->quality);
      } else {
        column.add(src.open.samples);
      }
    }
  });
}

}  // namespace resonance::historian
