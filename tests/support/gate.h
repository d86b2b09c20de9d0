// A one-shot event between threads: a fake upstream's handler waits on it (bounded) until the
// test opens it, e.g. to hold a response in flight while the proxy drains.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace trellis::tests {

class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // True once open; false if `timeout` passed first.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace trellis::tests
