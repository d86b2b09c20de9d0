// The controllable upstream: listen/accept, per-connection request loop, behaviours, die/revive.
#include "tests/support/controllable_upstream.h"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/wire_reader.h"

namespace trellis::tests {

namespace {

constexpr size_t kKeepBody = 1 << 20;

std::string answer(int status, const std::string& name) {
  const char* reason = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Whatever";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nx-upstream: " + name +
         "\r\ncontent-length: " + std::to_string(name.size()) + "\r\n\r\n" + name;
}

}  // namespace

ControllableUpstream::ControllableUpstream(std::string name) : name_(std::move(name)) {
  std::lock_guard<std::mutex> lock(mu_);
  listenOn(0);
}

ControllableUpstream::~ControllableUpstream() { stopAll(true); }

bool ControllableUpstream::listenOn(uint16_t port) {
  // Called with mu_ held.
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd.get(), 512) != 0) {
    return false;
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  if (port_ == 0) port_ = ntohs(a.sin_port);  // revive() binds the same port
  listener_ = std::move(fd);
  listening_ = true;
  const int lfd = listener_.get();
  accept_thread_ = std::thread([this, lfd] { acceptLoop(lfd); });
  return true;
}

void ControllableUpstream::acceptLoop(int listen_fd) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard<std::mutex> lock(mu_);
    if (fd < 0) {
      if (listening_ && !destroying_ && (errno == EINTR || errno == ECONNABORTED)) continue;
      return;
    }
    if (!listening_ || destroying_) {
      ::close(fd);
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setTimeouts(fd, std::chrono::seconds(30));  // a safety net: die() and the destructor wake reads
    open_fds_[fd] = false;
    const size_t index = ++accepted_;
    threads_.emplace_back([this, fd, index] { serve(fd, index); });
    cv_.notify_all();
  }
}

void ControllableUpstream::stopAll(bool final) {
  std::thread acceptor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (final) destroying_ = true;
    listening_ = false;
    if (listener_.valid()) ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
    acceptor = std::move(accept_thread_);
  }
  if (acceptor.joinable()) acceptor.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener_.reset();
    for (auto& [fd, resetting] : open_fds_) {
      resetting = true;
      linger l{1, 0};  // close() sends RST
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads and writes
    }
    threads = std::move(threads_);
    threads_.clear();
  }
  cv_.notify_all();  // wakes pauses
  for (auto& t : threads) t.join();
}

void ControllableUpstream::die() { stopAll(false); }

bool ControllableUpstream::revive(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listening_) return true;
      if (destroying_) return false;
      if (listenOn(port_)) return true;
    }
    // Another socket holds the port for a moment (e.g. a closing connection): try again.
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)),
                       [this] { return destroying_; })) {
      return false;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
  }
}

bool ControllableUpstream::alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listening_;
}

void ControllableUpstream::setData(Behavior b) {
  std::lock_guard<std::mutex> lock(mu_);
  data_ = b;
}

void ControllableUpstream::setHealth(Behavior b) {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = b;
}

void ControllableUpstream::queueData(Behavior b, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < n; ++i) queued_.push_back(b);
}

ControllableUpstream::Behavior ControllableUpstream::next(bool health_check) {
  // Called with mu_ held.
  if (health_check) return health_;
  if (!queued_.empty()) {
    Behavior b = queued_.front();
    queued_.pop_front();
    return b;
  }
  return data_;
}

bool ControllableUpstream::doomed(int fd) const {
  // Called with mu_ held.
  if (destroying_) return true;
  auto it = open_fds_.find(fd);
  return it == open_fds_.end() || it->second;
}

bool ControllableUpstream::pause(int fd, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return doomed(fd); });
}

void ControllableUpstream::serve(int fd, size_t index) {
  WireReader reader(fd);
  for (;;) {
    std::string raw;
    if (reader.readHead(raw) != ReadResult::Ok) break;
    Request req;
    req.connection = index;
    if (!parseHttpHead(raw, req.head)) break;
    const std::string& line = req.head.start_line;
    const size_t sp1 = line.find(' ');
    const size_t sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) break;
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string* ua = req.head.find("user-agent");
    req.health_check = ua && *ua == "Envoy/HC";

    Sink body = [&](std::string_view s) {
      if (req.body.size() < kKeepBody) req.body.append(s.substr(0, kKeepBody - req.body.size()));
    };
    ReadResult r = ReadResult::Ok;
    if (req.head.hasToken("transfer-encoding", "chunked")) {
      r = reader.readChunked(body, nullptr, 0);
    } else if (const std::string* cl = req.head.find("content-length")) {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
      r = ec == std::errc() && p == cl->data() + cl->size() ? reader.readExact(n, body) : ReadResult::Malformed;
    }
    if (r != ReadResult::Ok) break;
    const bool close_after = req.head.hasToken("connection", "close");
    const bool hc = req.health_check;

    Behavior b;
    {
      std::lock_guard<std::mutex> lock(mu_);
      b = next(hc);
      requests_.push_back(std::move(req));
      (hc ? hc_count_ : data_count_)++;
      if (!hc) ++in_flight_;
    }
    cv_.notify_all();

    bool keep = !close_after;
    switch (b.kind) {
      case Kind::Slow:
        if (!pause(fd, b.delay)) {
          keep = false;
          break;
        }
        keep = writeAll(fd, answer(200, name_)) && keep;
        break;
      case Kind::Ok:
        keep = writeAll(fd, answer(200, name_)) && keep;
        break;
      case Kind::Status:
        keep = writeAll(fd, answer(b.status, name_)) && keep;
        break;
      case Kind::Hang:
        // Until the proxy gives up and closes, or die()/the destructor shut the socket down.
        while (reader.readToEof({}) == ReadResult::Timeout) {
          std::lock_guard<std::mutex> lock(mu_);
          if (doomed(fd)) break;
        }
        keep = false;
        break;
      case Kind::CloseMidHead:
        writeAll(fd, "HTTP/1.1 200 OK\r\ncontent-le");
        keep = false;
        break;
      case Kind::Close:
        keep = false;
        break;
    }
    if (!hc) {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
    cv_.notify_all();
    if (!keep) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
    ::close(fd);
  }
  cv_.notify_all();
}

size_t ControllableUpstream::dataRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_count_;
}

size_t ControllableUpstream::healthChecks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hc_count_;
}

size_t ControllableUpstream::connectionsAccepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

size_t ControllableUpstream::dataInFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

std::vector<ControllableUpstream::Request> ControllableUpstream::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<ControllableUpstream::Request> ControllableUpstream::dataRequestList() const {
  std::vector<Request> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : requests_) {
    if (!r.health_check) out.push_back(r);
  }
  return out;
}

std::vector<ControllableUpstream::Request> ControllableUpstream::healthCheckList() const {
  std::vector<Request> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : requests_) {
    if (r.health_check) out.push_back(r);
  }
  return out;
}

bool ControllableUpstream::waitForDataRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return data_count_ >= n; });
}

bool ControllableUpstream::waitForHealthChecks(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return hc_count_ >= n; });
}

bool ControllableUpstream::waitForConnections(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return accepted_ >= n; });
}

bool ControllableUpstream::waitForDataInFlight(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return in_flight_ >= n; });
}

}  // namespace trellis::tests
