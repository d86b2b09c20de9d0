// What the benchmark's proxy streams report, gathered in one place: how many have their initial
// configuration, which of them ACKed the route weights of the current round and when, how many
// responses of each type arrived, and whether a stream ended. Streams call it from gRPC's threads;
// the benchmark waits on it from its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace trellis::bench::cp_push {

class PushTracker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PushTracker(int streams);

  // ---- from the streams ----
  // The stream has ACKed at least one response of each of CDS, EDS, LDS and RDS (counted once).
  void onInitialConfig(int stream);
  // The stream ACKed an outbound RouteConfiguration whose weighted route carries `signature`.
  void onRouteAck(int stream, const std::string& signature);
  void onResponse(const std::string& type_url);
  // The stream ended (it never should while the benchmark runs).
  void onStreamEnd(int stream, const std::string& why);

  // ---- from the benchmark ----
  // Waits until every stream has its initial configuration; returns the time the last one did.
  // Nothing on timeout or when a stream ended.
  std::optional<Clock::time_point> waitInitial(std::chrono::milliseconds timeout);
  int initialCount();

  // Starts counting ACKs of `signature` (a new round); call it before the edit.
  void startRound(const std::string& signature);
  struct Round {
    int acked = 0;                            // streams that ACKed the round's routes
    std::vector<Clock::time_point> ack_times;  // in arrival order
  };
  // Waits until every stream ACKed the round's routes (or the timeout, or a stream ended) and
  // returns what arrived.
  Round waitRound(std::chrono::milliseconds timeout);

  // Responses received so far, by type URL.
  std::map<std::string, long> responses();
  int streamsEnded();
  std::string firstEnd();

 private:
  const int streams_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> initial_;
  int initial_count_ = 0;
  Clock::time_point initial_last_;
  int round_ = 0;
  std::string round_signature_;
  std::vector<int> acked_round_;  // per stream: the last round it ACKed
  Round current_;
  std::map<std::string, long> responses_;
  int ended_ = 0;
  std::string first_end_;
};

}  // namespace trellis::bench::cp_push
