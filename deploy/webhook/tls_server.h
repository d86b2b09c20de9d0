// A small HTTPS server for the admission webhook: Boost.Beast over OpenSSL (asio::ssl), one
// io_context, coroutines. The API server is its only client, so it is simple but defensive: a
// handshake and a whole request must each complete within a deadline, bodies are capped, and
// the certificate can be reloaded (SIGHUP in main.cc) without dropping the listener —
// connections accepted afterwards use the new one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"

namespace trellis::deploy {

struct TlsRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::string body;
};

struct TlsResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class TlsHttpServer {
 public:
  using Handler = std::function<TlsResponse(const TlsRequest&)>;

  // Loads the PEM certificate chain and key, binds `address` (port 0 picks one).
  static absl::StatusOr<std::unique_ptr<TlsHttpServer>> create(boost::asio::io_context& io,
                                                               const boost::asio::ip::tcp::endpoint& address,
                                                               const std::string& cert_path,
                                                               const std::string& key_path, Handler handler);
  ~TlsHttpServer();

  void start();
  void stop();
  uint16_t port() const;
  // Reads the certificate and key files again; on an error the old pair stays in use.
  absl::Status reloadCertificate();

  struct State;

 private:
  explicit TlsHttpServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace trellis::deploy
