// The PostgreSQL peer: the same workload loaded with COPY through libpq, then the reads SQL can
// express. Built only when CMake finds libpq (scripts/bench installs libpq-dev); otherwise the
// peer reports why it did not run.

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

#include "peers.h"

#ifdef RESONANCE_BENCH_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

namespace resonance::bench {

#ifndef RESONANCE_BENCH_HAVE_LIBPQ

EngineResult bench_postgres(const Workload&, const std::string&, int) {
  EngineResult r{"postgresql", "-"};
  r.note = "not run: historian_bench was built without libpq (install libpq-dev and reconfigure)";
  return r;
}

#else

namespace {

using Clock = std::chrono::steady_clock;
double micros_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

// A result that must have the given status; throws with the server's message otherwise.
struct PgResult {
  PGresult* res;
  PgResult(PGconn* c, PGresult* r, ExecStatusType want, const std::string& what) : res(r) {
    if (PQresultStatus(res) != want) {
      const std::string msg = fmt::format("postgres {}: {}", what, PQerrorMessage(c));
      PQclear(res);
      throw std::runtime_error(msg);
    }
  }
  ~PgResult() { PQclear(res); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
};

void exec(PGconn* c, const std::string& sql, ExecStatusType want = PGRES_COMMAND_OK) {
  PgResult r(c, PQexec(c, sql.c_str()), want, sql);
}

}  // namespace

EngineResult bench_postgres(const Workload& w, const std::string& conninfo, int ticks_per_batch) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("postgres connect: " + msg);
  }
  struct Closer {
    PGconn* c;
    ~Closer() { PQfinish(c); }
  } closer{c};
  EngineResult r{
      fmt::format("postgresql-{}", PQserverVersion(c) / 10000),
      "fsync at COMMIT (fsync=on, synchronous_commit=on); each COPY its own transaction"};
  exec(c, "DROP TABLE IF EXISTS s");
  exec(c,
       "CREATE TABLE s(id integer NOT NULL, ts bigint NOT NULL, v double precision NOT NULL, "
       "PRIMARY KEY(id, ts))");
  // COPY text, pre-rendered so the client measures the server, not the formatting. Shortest
  // round-trip decimal text is exact for float8 input.
  std::vector<std::string> bodies;
  for (int tick = 0; tick < w.samples_per_signal; tick += ticks_per_batch) {
    std::string body;
    for (const Sample& s : workload_batch(w, tick, ticks_per_batch))
      fmt::format_to(std::back_inserter(body), "{}\t{}\t{}\n", s.series, s.ts_ns, s.value);
    bodies.push_back(std::move(body));
  }
  std::vector<double> ack_ms;
  const auto start = Clock::now();
  for (const auto& body : bodies) {
    const auto t = Clock::now();
    { PgResult in(c, PQexec(c, "COPY s FROM STDIN"), PGRES_COPY_IN, "COPY"); }
    if (PQputCopyData(c, body.data(), static_cast<int>(body.size())) != 1 ||
        PQputCopyEnd(c, nullptr) != 1)
      throw std::runtime_error(fmt::format("postgres COPY data: {}", PQerrorMessage(c)));
    { PgResult done(c, PQgetResult(c), PGRES_COMMAND_OK, "COPY end"); }
    while (PGresult* extra = PQgetResult(c)) PQclear(extra);
    ack_ms.push_back(micros_since(t) / 1000.0);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double total = static_cast<double>(w.signals) * w.samples_per_signal;
  r.ingest_samples_per_s = total / seconds;
  const auto ack = percentiles(ack_ms);
  r.ack_p50_ms = ack.p50;
  r.ack_p99_ms = ack.p99;
  {
    PgResult size(c, PQexec(c, "SELECT pg_total_relation_size('s')"), PGRES_TUPLES_OK, "size");
    r.bytes_per_sample = std::stod(PQgetvalue(size.res, 0, 0)) / total;
  }
  exec(c, "VACUUM ANALYZE s");  // visibility map and statistics, as a loaded table would have
  {
    PgResult p(c,
               PQprepare(c, "range",
                         "SELECT ts, v FROM s WHERE id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts",
                         3, nullptr),
               PGRES_COMMAND_OK, "prepare range");
  }
  {
    PgResult p(c,
               PQprepare(c, "latest", "SELECT ts, v FROM s WHERE id = $1 ORDER BY ts DESC LIMIT 1",
                         1, nullptr),
               PGRES_COMMAND_OK, "prepare latest");
  }
  const std::string from = std::to_string(w.t0_ns),
                    to = std::to_string(w.t0_ns + w.samples_per_signal * w.step_ns);
  std::vector<double> us;
  for (int id : query_series(w, 200)) {
    const std::string ids = std::to_string(id);
    const char* params[] = {ids.c_str(), from.c_str(), to.c_str()};
    const auto t = Clock::now();
    PgResult rows(c, PQexecPrepared(c, "range", 3, params, nullptr, nullptr, 0), PGRES_TUPLES_OK,
                  "range");
    us.push_back(micros_since(t));
    if (PQntuples(rows.res) != w.samples_per_signal)
      r.note += fmt::format("range returned {} rows; ", PQntuples(rows.res));
  }
  auto p = percentiles(us);
  r.range_10k_p50_us = p.p50;
  r.range_10k_p99_us = p.p99;
  us.clear();
  for (int id : query_series(w, 2000)) {
    const std::string ids = std::to_string(id);
    const char* params[] = {ids.c_str()};
    const auto t = Clock::now();
    PgResult row(c, PQexecPrepared(c, "latest", 1, params, nullptr, nullptr, 0), PGRES_TUPLES_OK,
                 "latest");
    us.push_back(micros_since(t));
  }
  p = percentiles(us);
  r.latest_p50_us = p.p50;
  r.latest_p99_us = p.p99;
  std::vector<double> ms;
  int buckets = 0;
  for (int k = 0; k < 3; ++k) {
    const auto t = Clock::now();
    PgResult rows(
        c,
        PQexec(c, fmt::format(
                      "SELECT id, (ts - {}) / 10000000000 AS b, min(v), max(v), avg(v), sum(v), "
                      "count(*) FROM s GROUP BY id, b",
                      w.t0_ns)
                      .c_str()),
        PGRES_TUPLES_OK, "buckets");
    ms.push_back(micros_since(t) / 1000.0);
    buckets = PQntuples(rows.res);
  }
  r.buckets_all_ms = percentiles(ms).p50;
  r.buckets_how = fmt::format(
      "GROUP BY id, bucket: min, max, avg, sum, count ({} buckets; no first/last "
      "aggregate in SQL); default parallel workers; median of 3",
      buckets);
  r.note += fmt::format(
      "libpq over a unix socket, COPY text of {} ticks x {} signals per COPY, PRIMARY KEY(id,ts) "
      "during the load; size = pg_total_relation_size (heap + index) right after the load; "
      "reads through prepared statements incl. result transfer",
      ticks_per_batch, w.signals);
  return r;
}

#endif

}  // namespace resonance::bench
