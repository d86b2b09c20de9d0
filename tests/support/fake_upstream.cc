// The scriptable fake upstream: accept loop, per-connection request loop, canned behaviours.
#include "tests/support/fake_upstream.h"

#include <cerrno>
#include <charconv>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace trellis::tests {

namespace {

constexpr size_t kKeepBytes = 256 * 1024;

const char* reasonFor(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Whatever";
  }
}

void keep(std::string& into, std::string_view s) {
  if (into.size() < kKeepBytes) into.append(s.substr(0, kKeepBytes - into.size()));
}

}  // namespace

std::string responseHead(int status, const HeaderList& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonFor(status) + "\r\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  out += "\r\n";
  return out;
}

// ---- Exchange -------------------------------------------------------------------------------

bool FakeUpstream::Exchange::readBody(const Sink& sink) {
  if (body_read_) return body_ok_;
  body_read_ = true;
  Sink data = [&](std::string_view s) {
    req_.body_bytes += s.size();
    keep(req_.body, s);
    if (sink) sink(s);
  };
  ReadResult r = ReadResult::Ok;
  if (req_.head.hasToken("transfer-encoding", "chunked")) {
    req_.chunked = true;
    r = reader_.readChunked(data, &req_.raw_body, kKeepBytes);
  } else if (const std::string* cl = req_.head.find("content-length")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc() || p != cl->data() + cl->size()) {
      r = ReadResult::Malformed;
    } else {
      r = reader_.readExact(n, data);
    }
  }
  body_ok_ = r == ReadResult::Ok;
  req_.body_complete = body_ok_;
  owner_.updateBody(index_, req_);
  return body_ok_;
}

bool FakeUpstream::Exchange::write(std::string_view bytes) { return writeAll(fd_, bytes); }

void FakeUpstream::Exchange::waitForPeerClose() {
  for (;;) {
    auto r = reader_.readToEof({});
    if (r != ReadResult::Timeout || owner_.stopping_) return;
  }
}

// ---- FakeUpstream ---------------------------------------------------------------------------

FakeUpstream::FakeUpstream(Handler handler) : handler_(std::move(handler)) {
  listener_ = listenLoopback(port_);
  if (listener_.valid()) accept_thread_ = std::thread([this] { acceptLoop(); });
}

FakeUpstream::~FakeUpstream() {
  stopping_ = true;
  if (listener_.valid()) ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
  if (accept_thread_.joinable()) accept_thread_.join();
  listener_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads and writes
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();  // no new threads: the accept loop has ended
}

void FakeUpstream::acceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (!stopping_ && (errno == EINTR || errno == ECONNABORTED)) continue;
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // A safety net only: the destructor wakes blocked calls itself.
    setTimeouts(fd, std::chrono::seconds(60));
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.insert(fd);
    size_t index = ++accepted_;
    threads_.emplace_back([this, fd, index] { serve(fd, index); });
    cv_.notify_all();
  }
}

void FakeUpstream::serve(int fd, size_t index) {
  WireReader reader(fd);
  while (!stopping_) {
    std::string raw;
    if (reader.readHead(raw) != ReadResult::Ok) break;
    UpstreamRequest req;
    req.connection = index;
    if (!parseHttpHead(raw, req.head)) break;
    const std::string& line = req.head.start_line;
    size_t sp1 = line.find(' ');
    size_t sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) break;
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    req.version = line.substr(sp2 + 1);
    size_t slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot = requests_.size();
      requests_.push_back(req);
    }
    cv_.notify_all();
    Exchange exchange(*this, fd, reader, std::move(req), slot);
    bool keep_open = handler_(exchange);
    if (keep_open && !exchange.bodyRead()) keep_open = exchange.readBody();
    if (!keep_open) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
    ++closed_;
  }
  cv_.notify_all();
}

void FakeUpstream::updateBody(size_t index, const UpstreamRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& r = requests_[index];
  r.body = req.body;
  r.raw_body = req.raw_body;
  r.body_bytes = req.body_bytes;
  r.chunked = req.chunked;
  r.body_complete = req.body_complete;
}

size_t FakeUpstream::connectionsAccepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

size_t FakeUpstream::connectionsClosed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

size_t FakeUpstream::requestsReceived() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

std::vector<UpstreamRequest> FakeUpstream::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool FakeUpstream::waitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

bool FakeUpstream::waitForConnectionsClosed(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_ >= n; });
}

// ---- canned behaviours ----------------------------------------------------------------------

FakeUpstream::Handler replyWith(int status, std::string body, HeaderList headers) {
  return [status, body = std::move(body), headers = std::move(headers)](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    HeaderList h = headers;
    h.emplace_back("content-length", std::to_string(body.size()));
    bool head = ex.request().method == "HEAD";
    return ex.write(responseHead(status, h) + (head ? std::string() : body));
  };
}

FakeUpstream::Handler replyWithRequestLine() {
  return [](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    std::string body = ex.request().method + " " + ex.request().target;
    return ex.write(responseHead(200, {{"content-length", std::to_string(body.size())}}) + body);
  };
}

FakeUpstream::Handler replyChunked(std::vector<std::string> chunks, std::string extension, std::string trailers) {
  return [chunks = std::move(chunks), extension = std::move(extension),
          trailers = std::move(trailers)](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    std::string out = responseHead(200, {{"transfer-encoding", "chunked"}});
    for (const auto& c : chunks) {
      char hex[20];
      auto [end, ec] = std::to_chars(hex, hex + sizeof(hex), c.size(), 16);
      out.append(hex, end).append(extension).append("\r\n").append(c).append("\r\n");
    }
    out.append("0").append(extension).append("\r\n").append(trailers).append("\r\n");
    return ex.write(out);
  };
}

FakeUpstream::Handler replyUntilClose(std::string body) {
  return [body = std::move(body)](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    ex.write(responseHead(200, {{"content-type", "text/plain"}}) + body);
    return false;  // closing ends the body
  };
}

FakeUpstream::Handler echoBody() {
  return [](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    const std::string& body = ex.request().body;
    return ex.write(responseHead(200, {{"content-length", std::to_string(body.size())}}) + body);
  };
}

FakeUpstream::Handler closeMidResponse(size_t declared, size_t sent) {
  return [declared, sent](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    ex.write(responseHead(200, {{"content-length", std::to_string(declared)}}) + std::string(sent, 'x'));
    return false;
  };
}

FakeUpstream::Handler neverAnswer() {
  return [](FakeUpstream::Exchange& ex) {
    ex.waitForPeerClose();
    return false;
  };
}

}  // namespace trellis::tests
