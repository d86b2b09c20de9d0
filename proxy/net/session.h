// What a worker needs of the connections it accepted: a way to drain or close them, and which
// listener they came from. The HTTP request flow (proxy/request) is the implementation; a TCP
// proxy session will be the second. The worker creates them through a factory its owner gives
// it, so proxy/net depends on no protocol.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

namespace trellis::proxy {

struct Listener;
class Worker;

class Session {
 public:
  virtual ~Session() = default;
  // Drain: an idle connection closes now; a busy one closes after its current response.
  virtual void onDrain() = 0;
  // Closes the connection now (after the drain time, or at shutdown).
  virtual void forceClose() = 0;
  virtual const Listener* listener() const = 0;
};

// Creates and starts the session for an accepted connection.
using SessionFactory = void (*)(Worker& worker, std::shared_ptr<const Listener> listener,
                                boost::asio::ip::tcp::socket socket);

}  // namespace trellis::proxy
