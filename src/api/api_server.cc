#include "resonance/api/api_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "api/session.h"
#include "resonance/api/router.h"

namespace resonance::api {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// After a failed accept (EMFILE, ENFILE...) wait before the next one instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
}  // namespace

class ApiServer::Impl {
 public:
  Impl(ApiOptions options, const SeriesCatalog& catalog, const Historian& historian,
       MetricsRegistry& metrics)
      : options_(std::move(options)),
        router_(RouterOptions{.max_points = options_.max_points,
                              .node_name = options_.node_name,
                              .assets = embedded_assets(),
                              .clock = unix_now_ns,
                              .quarantine = options_.quarantine,
                              .policy = options_.policy,
                              .provenance = options_.provenance,
                              .export_gate = options_.export_gate,
                              .remote = options_.remote,
                              .model = options_.model,
                              .inference = options_.inference},
                catalog, historian, metrics) {}

  ~Impl() { stop(); }

  Status start();
  void stop();
  std::uint16_t bound_port() const { return port_.load(std::memory_order_acquire); }

 private:
  void accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);

  ApiOptions options_;
  Router router_;  // declared before the io_context: sessions refer to it until they are destroyed

  std::mutex lifecycle_mu_;  // serialises start() and stop()
  bool started_ = false;     // guarded by lifecycle_mu_
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> retry_timer_;
  std::vector<std::thread> threads_;
  std::atomic<std::uint16_t> port_{0};
};

Status ApiServer::Impl::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_) return {StatusCode::kFailedPrecondition, "http api: already started (a stopped server cannot be restarted)"};
  if (options_.threads < 1)
    return {StatusCode::kInvalidArgument,
            fmt::format("api option 'threads': expected at least 1, found {}", options_.threads)};

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.bind_address, ec);
  if (ec)
    return {StatusCode::kInvalidArgument,
            fmt::format("api option 'bind_address': expected an IPv4 or IPv6 address, found '{}'",
                        options_.bind_address)};
  const tcp::endpoint endpoint(address, options_.port);
  const std::string where = fmt::format("{}:{}", options_.bind_address, options_.port);

  auto io = std::make_unique<asio::io_context>(options_.threads);
  auto acceptor = std::make_unique<tcp::acceptor>(*io);
  if (acceptor->open(endpoint.protocol(), ec); ec)
    return {StatusCode::kUnavailable,
            fmt::format("http api: cannot open a socket for {}: {}", where, ec.message())};
  // Lets a restarted node rebind while its old connections sit in TIME_WAIT; on Linux it does not
  // allow sharing a port another process is listening on.
  if (acceptor->set_option(asio::socket_base::reuse_address(true), ec); ec)
    return {StatusCode::kUnavailable,
            fmt::format("http api: cannot set SO_REUSEADDR on {}: {}", where, ec.message())};
  if (acceptor->bind(endpoint, ec); ec)
    return {StatusCode::kUnavailable,
            fmt::format("http api: cannot listen on {}: {} (is another process using the port? "
                        "choose another port, or 0 for any free one)",
                        where, ec.message())};
  if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec)
    return {StatusCode::kUnavailable,
            fmt::format("http api: cannot listen on {}: {}", where, ec.message())};
  const auto local = acceptor->local_endpoint(ec);
  if (ec)
    return {StatusCode::kUnavailable,
            fmt::format("http api: cannot read the bound address of {}: {}", where, ec.message())};

  io_ = std::move(io);
  acceptor_ = std::move(acceptor);
  retry_timer_ = std::make_unique<asio::steady_timer>(*io_);
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_->get_executor());
  port_.store(local.port(), std::memory_order_release);
  started_ = true;

  accept();
  threads_.reserve(static_cast<std::size_t>(options_.threads));
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([io = io_.get()] { io->run(); });
  return Status::ok();
}

void ApiServer::Impl::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (!io_) return;
  io_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // With no thread running, tearing down in this order is safe: destroying the io_context
  // destroys every pending handler, hence every Session and its socket.
  work_.reset();
  retry_timer_.reset();
  acceptor_.reset();
  io_.reset();
}

void ApiServer::Impl::accept() {
  acceptor_->async_accept(asio::make_strand(*io_),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            on_accept(ec, std::move(socket));
                          });
}

void ApiServer::Impl::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    retry_timer_->expires_after(kAcceptRetryDelay);
    retry_timer_->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec) accept();
    });
    return;
  }
  if (router_.metrics().open_connections() >= static_cast<std::int64_t>(options_.max_connections)) {
    // Over the bound: refuse cheaply rather than let one client starve the node of descriptors.
    router_.metrics().connection_rejected();
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    // Without TCP_NODELAY the last partial segment of a large answer can wait for the client's
    // (delayed) ACK of the segments before it: Nagle's rule, up to 40 ms on Linux.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const SessionLimits limits{.max_header_bytes = options_.max_header_bytes,
                               .max_body_bytes = options_.max_body_bytes,
                               .idle_timeout = std::chrono::seconds(options_.idle_timeout_s)};
    std::make_shared<Session>(std::move(socket), router_, limits)->start();
  }
  accept();
}

ApiServer::ApiServer(ApiOptions options, const SeriesCatalog& catalog, const Historian& historian,
                     MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), catalog, historian, metrics)) {}

ApiServer::~ApiServer() = default;

Status ApiServer::start() { return impl_->start(); }
void ApiServer::stop() { impl_->stop(); }
std::uint16_t ApiServer::bound_port() const { return impl_->bound_port(); }

}  // namespace resonance::api
