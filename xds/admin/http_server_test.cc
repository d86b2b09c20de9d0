// The admin server's defences and HTTP behaviour, over real sockets on port 0: the request
// deadline and the idle timeout, the head and body limits, exact method matching with Allow,
// HEAD, keep-alive, 404, the connection cap, stop() and the query helpers.
#include "xds/admin/http_server.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "xds/admin/query.h"

namespace trellis::xds::admin {
namespace {

namespace asio = boost::asio;

// A blocking client with a receive timeout, so a server that never answers fails the test.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }

  bool send(const std::string& bytes) { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()); }

  // One response: head and, unless `head_request`, a content-length body. nullopt on close or
  // timeout before it is complete.
  std::optional<std::string> response(bool head_request = false) {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    std::string head = pending_.substr(0, end + 4);
    size_t length = 0;
    const size_t cl = lower(head).find("content-length: ");
    if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
    if (head_request) length = 0;
    while (pending_.size() < end + 4 + length) {
      if (!fill()) return std::nullopt;
    }
    std::string out = pending_.substr(0, end + 4 + length);
    pending_.erase(0, end + 4 + length);
    return out;
  }

  // Whether the server closes the connection (EOF or reset) within the receive timeout, with
  // nothing more sent first.
  bool closedByServer() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  const std::string& unread() const { return pending_; }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool fill() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// The server on its own io_context thread, as its owners run it.
class Running {
 public:
  explicit Running(AdminLimits limits = {}) : work_(asio::make_work_guard(io_)) {
    auto server = AdminServer::create(io_, {asio::ip::make_address("127.0.0.1"), 0}, limits);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->addHandler("/hello", "GET", "says hello", [](const AdminRequest& r) {
      return AdminResponse{200, "text/plain", "hello " + r.param("name").value_or("nobody") + "\n"};
    });
    server_->addHandler("/echo", "POST", "echoes the body", [](const AdminRequest& r) {
      return AdminResponse{200, "text/plain", r.body};
    });
    server_->addHandler("/both", "GET,POST", "either", [](const AdminRequest& r) {
      return AdminResponse{200, "text/plain", r.method + "\n"};
    });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Running() {
    onLoop([this] { server_.reset(); });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }
  void onLoop(std::function<void()> fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  size_t openConnections() {
    size_t n = 0;
    onLoop([&] { n = server_->openConnections(); });
    return n;
  }
  // Bounded polling: the accept happens on the loop thread some time after connect() returns.
  bool waitForConnections(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (openConnections() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  AdminServer& server() { return *server_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
};

TEST(AdminHttpServerTest, TwoRequestsOnOneKeepAliveConnection) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /hello?name=a%20b HTTP/1.1\r\nhost: x\r\n\r\n"));
  auto first = c.response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *first;
  EXPECT_NE(first->find("\r\n\r\nhello a b\n"), std::string::npos) << *first;
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nabcde"));
  auto second = c.response();
  ASSERT_TRUE(second) << "the connection was not kept alive";
  EXPECT_NE(second->find("\r\n\r\nabcde"), std::string::npos) << *second;
}

TEST(AdminHttpServerTest, ConnectionCloseIsHonoured) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
  auto r = c.response();
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos) << *r;
  EXPECT_TRUE(c.closedByServer());
}

TEST(AdminHttpServerTest, HeadIsGetWithoutTheBody) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.send("HEAD /hello HTTP/1.1\r\nhost: x\r\n\r\n"));
  auto head = c.response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *head;
  EXPECT_NE(head->find("Content-Length: 13\r\n"), std::string::npos) << *head;  // "hello nobody\n"
  // The next response follows the head directly: no body bytes were sent.
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"));
  auto get = c.response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *get;
  EXPECT_NE(get->find("\r\n\r\nhello nobody\n"), std::string::npos) << *get;
}

TEST(AdminHttpServerTest, MethodsAreMatchedExactlyWithAllow) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.send("POST /hello HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n"));
  auto r = c.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << *r;
  EXPECT_NE(r->find("Allow: GET, HEAD\r\n"), std::string::npos) << *r;
  // A prefix of an allowed method is not that method (the old check was a substring match).
  ASSERT_TRUE(c.send("GE /both HTTP/1.1\r\nhost: x\r\n\r\n"));
  r = c.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("HTTP/1.1 405", 0), 0u) << *r;
  EXPECT_NE(r->find("Allow: GET, POST, HEAD\r\n"), std::string::npos) << *r;
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\nhost: x\r\n\r\n"));
  r = c.response();
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("Allow: POST\r\n"), std::string::npos) << *r;
}

TEST(AdminHttpServerTest, UnknownPathIs404AndHelpListsThePaths) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.send("GET /nope HTTP/1.1\r\nhost: x\r\n\r\n"));
  auto r = c.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << *r;
  ASSERT_TRUE(c.send("GET /help HTTP/1.1\r\nhost: x\r\n\r\n"));
  r = c.response();
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("  /echo (POST): echoes the body\n"), std::string::npos) << *r;
  EXPECT_NE(r->find("  /hello (GET): says hello\n"), std::string::npos) << *r;
}

TEST(AdminHttpServerTest, HalfARequestIsCutOffAtTheDeadline) {
  AdminLimits limits;
  limits.request_deadline = std::chrono::milliseconds(200);
  Running s(limits);
  Client c(s.port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nhost:"));
  EXPECT_TRUE(c.closedByServer()) << "a client that stops mid-request keeps its connection";
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  EXPECT_TRUE(s.waitForConnections(0));
}

TEST(AdminHttpServerTest, AnIdleKeptAliveConnectionIsClosed) {
  AdminLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(200);
  Running s(limits);
  Client c(s.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"));
  ASSERT_TRUE(c.response());
  EXPECT_TRUE(c.closedByServer());
}

TEST(AdminHttpServerTest, OversizedHeadIs431AndOversizedBodyIs413) {
  AdminLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  Running s(limits);
  {
    Client c(s.port());
    ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nhost: x\r\nx-big: " + std::string(2000, 'a') + "\r\n\r\n"));
    auto r = c.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rfind("HTTP/1.1 431", 0), 0u) << *r;
  }
  {
    Client c(s.port());
    ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 101\r\n\r\n"));
    auto r = c.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rfind("HTTP/1.1 413", 0), 0u) << *r;
  }
  {
    Client c(s.port());
    ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n" + std::string(100, 'b')));
    auto r = c.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rfind("HTTP/1.1 200", 0), 0u) << *r;
  }
}

TEST(AdminHttpServerTest, ConnectionsOverTheCapGet503) {
  AdminLimits limits;
  limits.max_connections = 2;
  Running s(limits);
  Client a(s.port());
  Client b(s.port());
  ASSERT_TRUE(s.waitForConnections(2));
  Client c(s.port());
  auto refused = c.response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->rfind("HTTP/1.1 503", 0), 0u) << *refused;
  // The two within the cap are served.
  ASSERT_TRUE(a.send("GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"));
  auto r = a.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("HTTP/1.1 200", 0), 0u) << *r;
}

// Descriptors open in this process now.
int openDescriptors() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    n -= 3;  // ".", ".." and the directory's own descriptor
  }
  return n;
}

// Out of descriptors, the accept loop pauses (and counts it) instead of spinning, and accepts
// the queued connection once descriptors are back.
TEST(AdminHttpServerTest, OutOfDescriptorsAcceptingPausesThenResumes) {
  Running s;
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  uint64_t backoffs = 0;
  {
    // One descriptor left: the client's socket takes it, so the server's accept gets EMFILE.
    rlimit tight = before;
    tight.rlim_cur = static_cast<rlim_t>(openDescriptors() + 1);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
    Client queued(s.port());
    const bool connected = queued.connected();
    for (int i = 0; i < 500 && backoffs == 0; ++i) {  // bounded: 5 s
      s.onLoop([&] { backoffs = s.server().acceptBackoffs(); });
      if (backoffs == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
    ASSERT_TRUE(connected);
    EXPECT_GT(backoffs, 0u) << "accept never reported running out of descriptors";
    // Descriptors are back: the paused loop retries within its delay (at most 1 s) and serves.
    ASSERT_TRUE(queued.send("GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"));
    auto r = queued.response();
    ASSERT_TRUE(r) << "the queued connection was not served after descriptors came back";
    EXPECT_EQ(r->rfind("HTTP/1.1 200", 0), 0u) << *r;
  }
  // The pauses were few (a delay growing to 1 s), not a spin.
  s.onLoop([&] { backoffs = s.server().acceptBackoffs(); });
  EXPECT_LT(backoffs, 20u);
}

TEST(AdminHttpServerTest, StopClosesOpenConnectionsAndTheAcceptor) {
  Running s;
  Client idle(s.port());
  ASSERT_TRUE(s.waitForConnections(1));
  const uint16_t port = s.port();
  s.onLoop([&] { s.server().stop(); });
  EXPECT_TRUE(idle.closedByServer());
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(AdminHttpServerTest, MalformedRequestIs400) {
  Running s;
  Client c(s.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nbad header line\r\n\r\n"));
  auto r = c.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("HTTP/1.1 400", 0), 0u) << *r;
}

TEST(AdminQueryTest, ParamsAreFoundByNameAndDecoded) {
  EXPECT_EQ(queryParam("a=1&filter=cluster%2Ex+y&usedonly", "filter"), "cluster.x y");
  EXPECT_EQ(queryParam("a=1&usedonly", "usedonly"), "");
  EXPECT_EQ(queryParam("a=1&usedonly", "b"), std::nullopt);
  EXPECT_EQ(queryParam("", "a"), std::nullopt);
  EXPECT_EQ(percentDecode("%zz%4"), "%zz%4");
}

TEST(AdminAddressTest, HostPortIsParsed) {
  auto v4 = AdminServer::parseAddress("127.0.0.1:15011");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->port(), 15011);
  auto v6 = AdminServer::parseAddress("[::1]:0");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_FALSE(AdminServer::parseAddress("localhost:1").ok());
  EXPECT_FALSE(AdminServer::parseAddress("127.0.0.1").ok());
}

}  // namespace
}  // namespace trellis::xds::admin
