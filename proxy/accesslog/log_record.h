// What one access log line can say about a request: the values the request flow collected,
// as plain fields and views. The formatter and the filters read only this, so they are tested
// without sockets and the request flow fills it without knowing which operators a format uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace trellis::proxy::accesslog {

struct LogRecord {
  std::chrono::system_clock::time_point start_time;  // the request head was parsed
  // Pseudo-headers of the downstream request.
  std::string_view method;
  std::string_view path;       // the request target as received
  std::string_view authority;  // Host
  std::string_view protocol;   // "HTTP/1.1", "HTTP/1.0"; empty: no request was parsed
  // Values of the headers the compiled formats name (AccessLogHeaders), by index; an empty
  // view is a header that is absent (or empty: both print "-", as in Envoy).
  const std::vector<std::string_view>* request_headers = nullptr;
  const std::vector<std::string_view>* response_headers = nullptr;

  uint16_t response_code = 0;  // 0: nothing was sent
  uint32_t response_flags = 0;  // bits of proxy::ResponseFlag
  std::string_view response_code_details;
  uint64_t bytes_received = 0;  // request body bytes
  uint64_t bytes_sent = 0;      // response body bytes

  // Durations from start_time; unset prints "-".
  std::optional<std::chrono::microseconds> duration;           // to the last byte sent
  std::optional<std::chrono::microseconds> request_duration;   // to the last request byte read
  std::optional<std::chrono::microseconds> response_duration;  // to the first upstream response byte
  std::optional<std::chrono::microseconds> upstream_service_time;  // send to response head, last try

  const boost::asio::ip::tcp::endpoint* upstream_host = nullptr;
  const boost::asio::ip::tcp::endpoint* upstream_local = nullptr;
  const boost::asio::ip::tcp::endpoint* downstream_remote = nullptr;
  const boost::asio::ip::tcp::endpoint* downstream_local = nullptr;  // the original destination
  std::string_view upstream_cluster;
  std::string_view route_name;
  std::string_view requested_server_name;  // SNI
  std::string_view upstream_transport_failure_reason;
  bool health_check = false;  // Trellis has no health check filter: always false
};

}  // namespace trellis::proxy::accesslog
