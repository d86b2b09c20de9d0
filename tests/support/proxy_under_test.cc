// In-process proxy lifecycle for integration tests.
#include "tests/support/proxy_under_test.h"

#include "config/bootstrap/bootstrap.h"

namespace trellis::tests {

absl::StatusOr<std::unique_ptr<ProxyUnderTest>> ProxyUnderTest::start(const std::string& yaml, uint32_t concurrency,
                                                                       std::chrono::milliseconds drain_time) {
  auto bootstrap = config::parseBootstrap(yaml, "test.yaml");
  if (!bootstrap.ok()) return bootstrap.status();
  proxy::ServerOptions options;
  options.concurrency = concurrency;
  options.drain_time = drain_time;
  options.bootstrap_source = "test.yaml";
  auto server = proxy::Server::create(*bootstrap, options);
  if (!server.ok()) return server.status();
  std::unique_ptr<ProxyUnderTest> p(new ProxyUnderTest());
  p->server_ = std::move(*server);
  if (auto st = p->server_->start(); !st.ok()) return st;
  std::promise<void> done;
  p->stopped_ = done.get_future();
  p->thread_ = std::thread([server = p->server_.get(), done = std::move(done)]() mutable {
    server->run();
    done.set_value();
  });
  return p;
}

ProxyUnderTest::~ProxyUnderTest() {
  if (thread_.joinable()) {
    server_->shutdown();
    thread_.join();
  }
}

int64_t ProxyUnderTest::stat(const std::string& name) const {
  for (const auto& v : server_->stats().collect()) {
    if (v.name == name) return v.value;
  }
  return -1;
}

bool ProxyUnderTest::waitForStat(const std::string& name, int64_t value, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (stat(name) == value) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool ProxyUnderTest::waitStopped(std::chrono::milliseconds timeout) {
  return stopped_.wait_for(timeout) == std::future_status::ready;
}

}  // namespace trellis::tests
