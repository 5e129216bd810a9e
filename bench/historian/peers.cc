#include "peers.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>

namespace resonance::bench {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {NAN, NAN};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.50), at(0.99)};
}

std::uint64_t directory_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (!ec && it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

std::uint64_t settled_directory_bytes(const std::filesystem::path& dir, double quiet_s, double max_wait_s,
                                      double* waited_s) {
  const auto start = Clock::now();
  std::uint64_t last = directory_bytes(dir);
  auto last_change = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < max_wait_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const std::uint64_t now = directory_bytes(dir);
    if (now != last) {
      last = now;
      last_change = Clock::now();
    } else if (std::chrono::duration<double>(Clock::now() - last_change).count() >= quiet_s) {
      break;
    }
  }
  if (waited_s) *waited_s = std::chrono::duration<double>(Clock::now() - start).count();
  return last;
}

namespace {

double micros_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

}  // namespace

struct HttpConnection::Impl {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket{io};
  // Kept for the connection: bytes read past one response belong to the next. Reserved because
  // Beast reads at most the buffer's free capacity (at least 512 bytes): a fresh flat_buffer
  // took a 330 kB answer in ~650 recv calls, which the figures then charged to the server. 64 kB
  // is what a client library reads at once (curl 16-512 kB, Python's http.client more).
  boost::beast::flat_buffer buffer;
};

HttpConnection::HttpConnection(int port) : impl_(std::make_unique<Impl>()) {
  impl_->socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  impl_->buffer.reserve(64 * 1024);
}

HttpConnection::~HttpConnection() = default;

std::pair<int, std::string> HttpConnection::request(bool post, const std::string& target, std::string body) {
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(true);
  if (!body.empty()) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  http::write(impl_->socket, req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 30);
  http::read(impl_->socket, impl_->buffer, parser);
  auto res = parser.release();
  return {static_cast<int>(res.result_int()), res.body()};
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::vector<int> query_series(const Workload& w, int n) {
  std::mt19937 rng(7);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<int>(rng() % static_cast<unsigned>(w.signals)) + 1);
  return out;
}

namespace {

// Line protocol, tick-major, `lines_per_post` lines per request — the research notes' client.
struct LineProtocolLoad {
  double samples_per_s;
  Percentiles ack_ms;
};

LineProtocolLoad load_line_protocol(const Workload& w, HttpConnection& conn, const std::string& target,
                                    int lines_per_post) {
  std::vector<std::string> bodies;  // pre-rendered so the client measures the server, not fmt
  std::string body;
  int lines = 0;
  for (int i = 0; i < w.samples_per_signal; ++i)
    for (int s = 0; s < w.signals; ++s) {
      body += fmt::format("m,id=s{:04} v={} {}\n", s + 1, workload_value(w, s, i), w.t0_ns + i * w.step_ns);
      if (++lines == lines_per_post) {
        bodies.push_back(std::move(body));
        body.clear();
        lines = 0;
      }
    }
  if (!body.empty()) bodies.push_back(std::move(body));
  std::vector<double> ack_ms;
  const auto start = Clock::now();
  for (auto& b : bodies) {
    const auto t = Clock::now();
    auto [status, reply] = conn.request(true, target, std::move(b));
    if (status / 100 != 2) throw std::runtime_error(fmt::format("write {} -> {}: {}", target, status, reply));
    ack_ms.push_back(micros_since(t) / 1000.0);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {static_cast<double>(w.signals) * w.samples_per_signal / seconds, percentiles(ack_ms)};
}

}  // namespace

EngineResult bench_sqlite(const Workload& w, const std::filesystem::path& dir, int ticks_per_batch) {
  EngineResult r{"sqlite-3.40", "fsync at COMMIT (journal_mode=WAL, synchronous=FULL)"};
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  sqlite3_open((dir / "bench.sqlite").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE s(id INTEGER, ts INTEGER, v REAL, PRIMARY KEY(id, ts)) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO s VALUES(?,?,?)", -1, &insert, nullptr);
  std::vector<double> ack_ms;
  const auto start = Clock::now();
  for (int tick = 0; tick < w.samples_per_signal; tick += ticks_per_batch) {
    const auto batch = workload_batch(w, tick, ticks_per_batch);
    const auto t = Clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const auto& s : batch) {
      sqlite3_bind_int64(insert, 1, s.series);
      sqlite3_bind_int64(insert, 2, s.ts_ns);
      sqlite3_bind_double(insert, 3, s.value);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    ack_ms.push_back(micros_since(t) / 1000.0);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.ingest_samples_per_s = static_cast<double>(w.signals) * w.samples_per_signal / seconds;
  const auto ack = percentiles(ack_ms);
  r.ack_p50_ms = ack.p50;
  r.ack_p99_ms = ack.p99;
  sqlite3_finalize(insert);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  r.bytes_per_sample = static_cast<double>(directory_bytes(dir)) / (static_cast<double>(w.signals) * w.samples_per_signal);
  sqlite3_stmt* range = nullptr;
  sqlite3_prepare_v2(db, "SELECT ts, v FROM s WHERE id=? AND ts>=? AND ts<? ORDER BY ts", -1, &range, nullptr);
  std::vector<double> us;
  for (int id : query_series(w, 200)) {
    const auto t = Clock::now();
    sqlite3_bind_int64(range, 1, id);
    sqlite3_bind_int64(range, 2, w.t0_ns);
    sqlite3_bind_int64(range, 3, w.t0_ns + w.samples_per_signal * w.step_ns);
    int rows = 0;
    while (sqlite3_step(range) == SQLITE_ROW) ++rows;
    sqlite3_reset(range);
    us.push_back(micros_since(t));
    if (rows != w.samples_per_signal) r.note += fmt::format("range returned {} rows; ", rows);
  }
  auto p = percentiles(us);
  r.range_10k_p50_us = p.p50;
  r.range_10k_p99_us = p.p99;
  sqlite3_stmt* latest = nullptr;
  sqlite3_prepare_v2(db, "SELECT ts, v FROM s WHERE id=? ORDER BY ts DESC LIMIT 1", -1, &latest, nullptr);
  us.clear();
  for (int id : query_series(w, 2000)) {
    const auto t = Clock::now();
    sqlite3_bind_int64(latest, 1, id);
    sqlite3_step(latest);
    sqlite3_reset(latest);
    us.push_back(micros_since(t));
  }
  p = percentiles(us);
  r.latest_p50_us = p.p50;
  r.latest_p99_us = p.p99;
  {  // every sample into 10-second buckets, one pass (first/last have no SQL aggregate here)
    const std::string q = fmt::format("SELECT id, (ts - {}) / 10000000000 AS b, min(v), max(v), avg(v), sum(v), "
                                      "count(*) FROM s GROUP BY id, b",
                                      w.t0_ns);
    sqlite3_stmt* buckets = nullptr;
    sqlite3_prepare_v2(db, q.c_str(), -1, &buckets, nullptr);
    const auto t = Clock::now();
    int rows = 0;
    while (sqlite3_step(buckets) == SQLITE_ROW) ++rows;
    r.buckets_all_ms = micros_since(t) / 1000.0;
    sqlite3_finalize(buckets);
    r.buckets_how = fmt::format("GROUP BY id, bucket: min, max, avg, sum, count ({} buckets), 1 run", rows);
  }
  sqlite3_finalize(range);
  sqlite3_finalize(latest);
  sqlite3_close(db);
  r.note += "in-process C API, one prepared INSERT, one transaction per batch, PRIMARY KEY(id,ts)";
  return r;
}

EngineResult bench_influxdb(const Workload& w, int port, const std::filesystem::path& data_dir) {
  EngineResult r{"influxdb-1.6.7", "fsync per write request (wal-fsync-delay=0s)"};
  HttpConnection conn(port);
  conn.request(true, "/query?q=" + url_encode("CREATE DATABASE bench"));
  const auto load = load_line_protocol(w, conn, "/write?db=bench&precision=ns", 5000);
  r.ingest_samples_per_s = load.samples_per_s;
  r.ack_p50_ms = load.ack_ms.p50;
  r.ack_p99_ms = load.ack_ms.p99;
  double waited = 0;
  const auto settled = settled_directory_bytes(data_dir, 5.0, 90.0, &waited);
  r.bytes_per_sample = static_cast<double>(settled) / (static_cast<double>(w.signals) * w.samples_per_signal);
  std::vector<double> us;
  for (int id : query_series(w, 50)) {
    const auto t = Clock::now();
    auto [status, body] = conn.request(
        false, "/query?db=bench&epoch=ns&q=" + url_encode(fmt::format("SELECT v FROM m WHERE id='s{:04}'", id)));
    us.push_back(micros_since(t));
    if (status != 200) r.note += fmt::format("range query -> {}; ", status);
  }
  auto p = percentiles(us);
  r.range_10k_p50_us = p.p50;
  r.range_10k_p99_us = p.p99;
  us.clear();
  for (int id : query_series(w, 200)) {
    const auto t = Clock::now();
    conn.request(false, "/query?db=bench&epoch=ns&q=" +
                                      url_encode(fmt::format("SELECT last(v) FROM m WHERE id='s{:04}'", id)));
    us.push_back(micros_since(t));
  }
  p = percentiles(us);
  r.latest_p50_us = p.p50;
  r.latest_p99_us = p.p99;
  {
    const TimestampNs end_ns = w.t0_ns + w.samples_per_signal * w.step_ns;
    std::vector<double> ms;
    for (int k = 0; k < 3; ++k) {
      const auto t = Clock::now();
      auto [status, body] = conn.request(
          false, "/query?db=bench&epoch=ns&q=" +
                     url_encode(fmt::format("SELECT min(v), max(v), mean(v), sum(v), count(v), first(v), last(v) "
                                            "FROM m WHERE time >= {} AND time < {} GROUP BY time(10s), id",
                                            w.t0_ns, end_ns)));
      ms.push_back(micros_since(t) / 1000.0);
      if (status != 200) r.note += fmt::format("buckets query -> {}; ", status);
    }
    r.buckets_all_ms = percentiles(ms).p50;
    r.buckets_how = "GROUP BY time(10s), id: min, max, mean, sum, count, first, last; HTTP + JSON; median of 3";
  }
  r.note += fmt::format("HTTP line protocol, 5,000 lines per POST, 1 connection; size = data+wal+meta "
                        "once unchanged for 5 s ({:.0f} s after ingest; snapshot/compaction cold durations "
                        "set short by scripts/bench); queries over HTTP incl. JSON", waited);
  return r;
}

EngineResult bench_victoria_metrics(const Workload& w, int port, const std::filesystem::path& data_dir) {
  EngineResult r{"victoria-metrics-1.79.5", "none: acknowledged before persistence (flushes every ~1 s)"};
  HttpConnection conn(port);
  const auto load = load_line_protocol(w, conn, "/write?precision=ns", 5000);
  r.ingest_samples_per_s = load.samples_per_s;
  r.ack_p50_ms = load.ack_ms.p50;
  r.ack_p99_ms = load.ack_ms.p99;
  conn.request(false, "/internal/force_flush");
  double waited = 0;
  const auto settled = settled_directory_bytes(data_dir, 5.0, 90.0, &waited);
  r.bytes_per_sample = static_cast<double>(settled) / (static_cast<double>(w.signals) * w.samples_per_signal);
  const double start_s = static_cast<double>(w.t0_ns) / 1e9;
  const double end_s = start_s + static_cast<double>(w.samples_per_signal * w.step_ns) / 1e9;
  std::vector<double> us;
  for (int id : query_series(w, 50)) {
    const auto t = Clock::now();
    auto [status, body] = conn.request(
        false, fmt::format("/api/v1/export?match[]={}&start={}&end={}",
                                     url_encode(fmt::format("m_v{{id=\"s{:04}\"}}", id)), start_s, end_s));
    us.push_back(micros_since(t));
    if (status != 200) r.note += fmt::format("export -> {}; ", status);
  }
  auto p = percentiles(us);
  r.range_10k_p50_us = p.p50;
  r.range_10k_p99_us = p.p99;
  us.clear();
  for (int id : query_series(w, 200)) {
    const auto t = Clock::now();
    conn.request(false, fmt::format("/api/v1/query?query={}&time={}",
                                              url_encode(fmt::format("m_v{{id=\"s{:04}\"}}", id)), end_s));
    us.push_back(micros_since(t));
  }
  p = percentiles(us);
  r.latest_p50_us = p.p50;
  r.latest_p99_us = p.p99;
  {
    // MetricsQL evaluates one rollup per query; avg_over_time is the research note's 90 ms figure's
    // kind of query. nocache=1: every run computes from the stored data.
    std::vector<double> ms;
    std::size_t series_back = 0;
    for (int k = 0; k < 3; ++k) {
      const auto t = Clock::now();
      auto [status, body] = conn.request(
          false, fmt::format("/api/v1/query_range?query={}&start={}&end={}&step=10s&nocache=1",
                             url_encode("avg_over_time(m_v[10s])"), start_s + 10, end_s));
      ms.push_back(micros_since(t) / 1000.0);
      if (status != 200) r.note += fmt::format("query_range -> {}; ", status);
      else series_back = body.empty() ? 0 : static_cast<std::size_t>(std::count(body.begin(), body.end(), '{')) - 2;
    }
    r.buckets_all_ms = percentiles(ms).p50;
    r.buckets_how = fmt::format("query_range avg_over_time(m_v[10s]) step 10s, one aggregate only; HTTP + JSON "
                                "(~{} series back); median of 3",
                                series_back / 2);
  }
  r.note += fmt::format("HTTP Influx line protocol, 5,000 lines per POST, 1 connection; stores ms "
                        "timestamps; size after force_flush once unchanged for 5 s ({:.0f} s)", waited);
  return r;
}

}  // namespace resonance::bench
