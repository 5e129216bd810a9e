#pragma once
// A real mosquitto broker for the bridge tests: its own config file and folder, on a free
// loopback port, started with fork/exec and stopped with SIGTERM. Plus a small libmosquitto
// client the tests use to publish to it and watch what arrives.

#include <fcntl.h>
#include <fmt/format.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace resonance::mqttsn::testing_support {

// A TCP port nobody listens on right now (bound to port 0, then released).
inline std::uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool tcp_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline std::string user_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : "root";
}

class MosquittoBroker {
 public:
  // With `user`/`password`, anonymous clients are refused and only that account may connect.
  explicit MosquittoBroker(std::filesystem::path dir, std::uint16_t port = 0, std::string user = "",
                           std::string password = "")
      : dir_(std::move(dir)), port_(port ? port : free_tcp_port()) {
    std::filesystem::create_directories(dir_);
    std::ofstream conf(dir_ / "mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "persistence false\n"
         // Run as whoever runs the test: as root, mosquitto would switch to the user "mosquitto",
         // which cannot write this folder.
         << "user " << user_name() << "\n"
         << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n";
    if (user.empty()) {
      conf << "allow_anonymous true\n";
    } else {
      const auto pw = (dir_ / "passwd").string();
      const auto cmd = fmt::format("mosquitto_passwd -c -b '{}' '{}' '{}' >/dev/null 2>&1", pw, user, password);
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
      conf << "allow_anonymous false\npassword_file " << pw << "\n";
    }
  }
  ~MosquittoBroker() { stop(); }

  bool start() {
    const auto conf = (dir_ / "mosquitto.conf").string();
    const auto out = (dir_ / "mosquitto.out").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);  // its start-up notes
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (tcp_accepts(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ / "mosquitto.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// A plain MQTT client on the broker (libmosquitto, its own loop thread): publishes, and keeps
// what arrives on its subscriptions.
class BrokerClient {
 public:
  struct Message {
    std::string topic;
    std::string payload;
    int qos;
    bool retain;
    std::chrono::steady_clock::time_point at;
  };
  BrokerClient(std::uint16_t port, const std::string& id) {
    mosquitto_lib_init();
    m_ = mosquitto_new(id.c_str(), true, this);
    mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
      auto* c = static_cast<BrokerClient*>(self);
      std::lock_guard lock(c->mu_);
      c->connected_ = rc == 0;
      c->cv_.notify_all();
    });
    mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int*) {
      auto* c = static_cast<BrokerClient*>(self);
      std::lock_guard lock(c->mu_);
      ++c->subacks_;
      c->cv_.notify_all();
    });
    mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
      auto* c = static_cast<BrokerClient*>(self);
      std::lock_guard lock(c->mu_);
      c->inbox_.push_back({msg->topic,
                           std::string(static_cast<const char*>(msg->payload),
                                       static_cast<std::size_t>(msg->payloadlen)),
                           msg->qos, msg->retain, std::chrono::steady_clock::now()});
      c->cv_.notify_all();
    });
    mosquitto_connect(m_, "127.0.0.1", port, 30);
    mosquitto_loop_start(m_);
  }
  ~BrokerClient() {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, false);
    mosquitto_destroy(m_);
  }
  bool wait_connected(int timeout_ms = 3000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return connected_; });
  }
  bool subscribe(const std::string& filter, int qos = 1, int timeout_ms = 3000) {
    std::unique_lock lock(mu_);
    const int want = subacks_ + 1;
    lock.unlock();
    if (mosquitto_subscribe(m_, nullptr, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) return false;
    lock.lock();
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return subacks_ >= want; });
  }
  bool publish(const std::string& topic, const std::string& payload, int qos = 1) {
    return mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, false) == MOSQ_ERR_SUCCESS;
  }
  std::optional<Message> next(int timeout_ms) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !inbox_.empty(); }))
      return std::nullopt;
    Message m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }

 private:
  mosquitto* m_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  int subacks_ = 0;
  std::deque<Message> inbox_;
};

}  // namespace resonance::mqttsn::testing_support
