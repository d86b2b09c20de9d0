// Watches the mesh folder with inotify and calls back once a burst of changes has settled: every
// create, write, delete or move of a file (names starting with '.' excepted, as the loader skips
// them) restarts a debounce timer, and its expiry triggers one rebuild. Runs on an io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace trellis::cp {

class DirWatcher {
 public:
  DirWatcher(boost::asio::io_context& io, std::string dir, std::chrono::milliseconds debounce,
             std::function<void()> on_change);
  ~DirWatcher();

  // Starts watching; fails if the folder cannot be watched (missing, not a folder, no permission).
  absl::Status start();
  void stop();

 private:
  void readEvents();
  void onEvents(size_t bytes);

  boost::asio::io_context& io_;
  const std::string dir_;
  const std::chrono::milliseconds debounce_;
  std::function<void()> on_change_;
  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer timer_;
  alignas(8) std::array<char, 16 * 1024> buffer_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace trellis::cp
