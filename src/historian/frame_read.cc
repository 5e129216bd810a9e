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

// Exact arithmetic on timestamps and counts (GCC's 128-bit integer; __extension__: no pedantic warning).
__extension__ using Wide = __int128;

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
  if (codec::grid_timestamps(c.ts_block, n, c.ts_base, t0, step) && (step > 0 || n == 1) && t0 == c.header.t_min &&
      static_cast<Wide>(t0) + static_cast<Wide>(step) * static_cast<Wide>(n - 1) == c.header.t_max) {
    column.add_grid(t0, step, scratch.values, scratch.quality);
    return Status::ok();
  }
  scratch.ts.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, scratch.ts, c.ts_base); !s) return s;
  for (std::size_t i = 1; i < n; ++i)
    if (scratch.ts[i] <= scratch.ts[i - 1])
      return Status(StatusCode::kCorruption,
                    fmt::format("chunk of series {}: timestamp {} not above its predecessor", c.header.series, i));
  if (scratch.ts.front() != c.header.t_min || scratch.ts.back() != c.header.t_max)
    return Status(StatusCode::kCorruption,
                  fmt::format("chunk of series {}: timestamps disagree with t_min/t_max", c.header.series));
  column.add(scratch.ts, scratch.values, scratch.quality);
  return Status::ok();
}

}  // namespace

Frame HistorianImpl::frame(const FrameRequest& req) const {
  return build_frame(req, [this](SeriesId series, TimestampNs lo, TimestampNs hi, FrameColumn& column,
                                 ChunkColumns& scratch) {
    // Head first, then the store, as range() collects: a chunk moving between them is seen twice
    // (an overlap) rather than not at all.
    std::vector<std::shared_ptr<const SealedChunk>> sealed;
    SampleRun open;
    head_.collect(series, lo, hi, sealed, open);
    const std::vector<ChunkRef> files = store_->chunks(series, lo, hi);
    struct Source {
      TimestampNs lo, hi;
      const ChunkView* file;    // else
      const SealedChunk* head;  // else the open samples
    };
    std::vector<Source> sources;
    sources.reserve(files.size() + sealed.size() + 1);
    for (const auto& c : files) sources.push_back({c.view.header.t_min, c.view.header.t_max, &c.view, nullptr});
    for (const auto& c : sealed) sources.push_back({c->t_min(), c->t_max(), nullptr, c.get()});
    if (!open.samples.empty())
      sources.push_back({open.samples.front().ts_ns, open.samples.back().ts_ns, nullptr, nullptr});
    std::sort(sources.begin(), sources.end(), [](const Source& a, const Source& b) { return a.lo < b.lo; });
    for (std::size_t i = 1; i < sources.size(); ++i) {
      if (sources[i].lo <= sources[i - 1].hi) {
        // Overlapping sources (late data, a chunk both in the head and in a file) need range()'s
        // last-write-wins merge; rare, so its Sample vector is paid here only.
        column.add(range(series, lo, hi, std::numeric_limits<std::size_t>::max()));
        return;
      }
    }
    for (const Source& s : sources) {
      if (s.file != nullptr) {
        // A damaged chunk is left out, as range() leaves it out.
        if (Status st = feed_chunk(*s.file, scratch, column); !st)
          spdlog::error("historian: series {}: {}", series, st.to_string());
      } else if (s.head != nullptr) {
        column.add(s.head->ts_ns, s.head->values, s.head->quality);
      } else {
        column.add(open.samples);
      }
    }
  });
}

}  // namespace resonance::historian
