#include "historian/backfill_job.h"

#include <fmt/core.h>

#include "historian/backfill_csv.h"
#include "historian/historian_impl.h"
#include "resonance/core/catalog.h"
#include "resonance/core/dir_lock.h"

namespace resonance::historian {

Result<BackfillJobReport> run_backfill_job(const BackfillJob& job) {
  Env& env = posix_env();
  if (Status s = env.create_dirs(job.data_dir); !s) return error(std::move(s));
  auto lock = DirLock::acquire(job.data_dir);
  if (!lock) {
    if (lock.error().code() != StatusCode::kFailedPrecondition) return error(lock.error());
    return error(StatusCode::kFailedPrecondition,
                 fmt::format("backfill refused: {}. A running node owns its store; stop the node, backfill, "
                             "then start it again",
                             lock.error().message()));
  }
  auto bytes = env.read_file(job.csv);
  if (!bytes) return error(bytes.error());
  const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  auto csv = parse_backfill_csv(text, job.csv.string(), job.series);
  if (!csv) return error(csv.error());

  auto catalog = SeriesCatalog::open(job.data_dir / "catalog.sqlite");
  if (!catalog) return error(catalog.error());
  BackfillJobReport report;
  std::vector<SeriesId> ids;
  for (const auto& path : csv->paths) {
    const bool known = (*catalog)->find(std::string_view(path)).has_value();
    auto id = (*catalog)->resolve(path);
    if (!id) return error(id.error().code(), fmt::format("{}: series {}: {}", job.csv.string(), path, id.error().message()));
    ids.push_back(*id);
    report.series_created += known ? 0 : 1;
  }
  std::vector<Sample> samples;
  samples.reserve(csv->rows.size());
  for (const auto& r : csv->rows) samples.push_back(Sample{ids[r.path], r.ts_ns, r.value, Quality{r.quality}});
  csv->rows = {};

  HistorianOptions options = job.options;
  options.dir = job.data_dir / "historian";
  options.compaction_interval_ms = 0;  // this job compacts once, at the end
  auto opened = HistorianImpl::open(options, env);
  if (!opened) return error(opened.error());
  HistorianImpl& h = **opened;
  auto loaded = h.backfill(std::move(samples), job.csv.filename().string());
  if (!loaded) return error(loaded.error());
  report.loaded = *loaded;
  // Everything into chunk files now (no node is running, so sealing the live buffers early costs
  // nothing), so the WAL is checkpointed away and compaction sees the new files.
  if (Status s = h.flush_chunks(true); !s) return error(std::move(s));
  if (job.compact) {
    auto compacted = h.compact(/*include_newest=*/true);
    if (!compacted) return error(compacted.error());
    report.compaction = *compacted;
  }
  h.close();
  return report;
}

}  // namespace resonance::historian
