// Counting what the proxy streams report; see push_tracker.h.
#include "bench/cp_push/push_tracker.h"

namespace trellis::bench::cp_push {

PushTracker::PushTracker(int streams)
    : streams_(streams), initial_(static_cast<size_t>(streams), false), acked_round_(static_cast<size_t>(streams), 0) {}

void PushTracker::onInitialConfig(int stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (initial_[static_cast<size_t>(stream)]) return;
  initial_[static_cast<size_t>(stream)] = true;
  ++initial_count_;
  initial_last_ = Clock::now();
  if (initial_count_ == streams_) cv_.notify_all();
}

void PushTracker::onRouteAck(int stream, const std::string& signature) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (round_ == 0 || signature != round_signature_ || acked_round_[static_cast<size_t>(stream)] == round_) return;
  acked_round_[static_cast<size_t>(stream)] = round_;
  ++current_.acked;
  current_.ack_times.push_back(now);
  if (current_.acked == streams_) cv_.notify_all();
}

void PushTracker::onResponse(const std::string& type_url) {
  std::lock_guard<std::mutex> lock(mu_);
  ++responses_[type_url];
}

void PushTracker::onStreamEnd(int stream, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ended_++ == 0) first_end_ = "stream " + std::to_string(stream) + ": " + why;
  cv_.notify_all();
}

std::optional<PushTracker::Clock::time_point> PushTracker::waitInitial(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return initial_count_ == streams_ || ended_ > 0; })) return std::nullopt;
  if (ended_ > 0) return std::nullopt;
  return initial_last_;
}

int PushTracker::initialCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return initial_count_;
}

void PushTracker::startRound(const std::string& signature) {
  std::lock_guard<std::mutex> lock(mu_);
  ++round_;
  round_signature_ = signature;
  current_ = Round{};
  current_.ack_times.reserve(static_cast<size_t>(streams_));
}

PushTracker::Round PushTracker::waitRound(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return current_.acked == streams_ || ended_ > 0; });
  return current_;
}

std::map<std::string, long> PushTracker::responses() {
  std::lock_guard<std::mutex> lock(mu_);
  return responses_;
}

int PushTracker::streamsEnded() {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

std::string PushTracker::firstEnd() {
  std::lock_guard<std::mutex> lock(mu_);
  return first_end_;
}

}  // namespace trellis::bench::cp_push
