// Bootstrap templates, admin access, polling and client load for the resilience tests.
#include "tests/support/resilience.h"

#include <algorithm>

#include "tests/support/raw_client.h"

namespace trellis::tests {

std::string fillTemplate(std::string text, const std::map<std::string, std::string>& vars) {
  std::vector<std::pair<std::string, std::string>> ordered(vars.begin(), vars.end());
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [key, value] : ordered) {
    const std::string token = "$" + key;
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
      text.replace(at, token.size(), value);
    }
  }
  return text;
}

std::string envoyBootstrap(const std::string& route_config, const std::string& clusters) {
  return R"(node: {id: resilience, cluster: resilience}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          codec_type: AUTO
          route_config: )" +
         route_config + R"(
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
)" + clusters;
}

std::string staticCluster(const std::string& name, const std::vector<uint16_t>& ports, const std::string& extra) {
  std::string y = "  - name: " + name + "\n    type: STATIC\n    connect_timeout: 0.25s\n" + extra;
  y += "    load_assignment:\n      cluster_name: " + name + "\n      endpoints:\n      - lb_endpoints:\n";
  for (uint16_t p : ports) {
    y += "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(p) +
         "}}}\n";
  }
  return y;
}

std::optional<AdminReply> adminRequest(uint16_t admin_port, const std::string& path, const std::string& method) {
  auto c = RawClient::connect(admin_port, std::chrono::seconds(5));
  if (!c) return std::nullopt;
  if (!c->send(makeRequest(method, path, "admin"))) return std::nullopt;
  auto r = c->readResponse();
  if (!r) return std::nullopt;
  return AdminReply{r->status, r->body};
}

std::string healthFlags(uint16_t admin_port, const std::string& cluster, uint16_t port) {
  return hostField(admin_port, cluster, port, "health_flags");
}

int64_t hostCounter(uint16_t admin_port, const std::string& cluster, uint16_t port, const std::string& field) {
  const std::string v = hostField(admin_port, cluster, port, field);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(v);
}

std::string hostField(uint16_t admin_port, const std::string& cluster, uint16_t port, const std::string& field) {
  auto r = adminRequest(admin_port, "/clusters");
  if (!r || r->status != 200) return "";
  const std::string key = "\n" + cluster + "::127.0.0.1:" + std::to_string(port) + "::" + field + "::";
  r->body.insert(0, "\n");
  size_t at = r->body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return r->body.substr(at, r->body.find('\n', at) - at);
}

bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout, std::chrono::milliseconds every) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(every);
  }
}

ClientLoad::ClientLoad(uint16_t port, size_t clients, std::string target, size_t max_requests,
                       std::chrono::milliseconds max_time, std::chrono::microseconds pace) {
  const auto until = std::chrono::steady_clock::now() + max_time;
  for (size_t i = 0; i < clients; ++i) {
    threads_.emplace_back([this, port, target, max_requests, until, pace] {
      run(port, target, max_requests, until, pace);
    });
  }
}

ClientLoad::~ClientLoad() { stop(); }

void ClientLoad::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool ClientLoad::waitForMore(size_t n, std::chrono::milliseconds timeout) const {
  const size_t want = done_.load() + n;
  return waitUntil([&] { return done_.load() >= want; }, timeout, std::chrono::milliseconds(1));
}

std::vector<ClientLoad::Failure> ClientLoad::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::map<std::string, size_t> ClientLoad::byUpstream() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_upstream_;
}

void ClientLoad::run(uint16_t port, std::string target, size_t max_requests,
                     std::chrono::steady_clock::time_point until, std::chrono::microseconds pace) {
  std::unique_ptr<RawClient> client;
  const std::string request = makeRequest("GET", target);
  auto next_at = std::chrono::steady_clock::now();
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    // Pacing, not synchronisation: spaces this client's requests out.
    std::this_thread::sleep_until(next_at);
    next_at = std::chrono::steady_clock::now() + pace;
    const size_t index = started_.fetch_add(1);
    if (index >= max_requests) break;
    if (!client) client = RawClient::connect(port, std::chrono::seconds(5));
    std::string what;
    if (!client) {
      what = "connect to the proxy failed";
    } else if (!client->send(request)) {
      what = "send failed";
    } else if (auto r = client->readResponse()) {
      if (r->status == 200) {
        const std::string* up = r->header("x-upstream");
        std::lock_guard<std::mutex> lock(mu_);
        ++by_upstream_[up ? *up : "?"];
      } else {
        what = "status " + std::to_string(r->status) + ": " + r->body;
      }
      if (r->closes()) client.reset();
    } else {
      what = client->error();
      client.reset();
    }
    if (!what.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      failures_.push_back({index, what});
    }
    done_.fetch_add(1);
  }
}

}  // namespace trellis::tests
