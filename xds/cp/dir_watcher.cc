// inotify plus a debounce timer; see dir_watcher.h.
#include "xds/cp/dir_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace trellis::cp {

DirWatcher::DirWatcher(boost::asio::io_context& io, std::string dir, std::chrono::milliseconds debounce,
                       std::function<void()> on_change)
    : io_(io), dir_(std::move(dir)), debounce_(debounce), on_change_(std::move(on_change)), inotify_(io),
      timer_(io) {}

DirWatcher::~DirWatcher() { stop(); }

absl::Status DirWatcher::start() {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  if (inotify_add_watch(fd, dir_.c_str(), kMask) < 0) {
    const int error = errno;
    ::close(fd);
    return absl::NotFoundError(absl::StrCat("cannot watch mesh folder '", dir_, "': ", std::strerror(error)));
  }
  inotify_.assign(fd);
  readEvents();
  return absl::OkStatus();
}

void DirWatcher::stop() {
  *alive_ = false;
  boost::system::error_code ignored;
  timer_.cancel();
  if (inotify_.is_open()) inotify_.close(ignored);
}

void DirWatcher::readEvents() {
  inotify_.async_read_some(boost::asio::buffer(buffer_),
                           [this, alive = alive_](const boost::system::error_code& ec, size_t bytes) {
                             if (!*alive || ec == boost::asio::error::operation_aborted) return;
                             if (ec) {
                               spdlog::error("mesh folder watch on '{}' failed: {}; changes are no longer seen",
                                             dir_, ec.message());
                               return;
                             }
                             onEvents(bytes);
                             readEvents();
                           });
}

void DirWatcher::onEvents(size_t bytes) {
  bool relevant = false;
  for (size_t offset = 0; offset + sizeof(inotify_event) <= bytes;) {
    inotify_event event;
    std::memcpy(&event, buffer_.data() + offset, sizeof event);
    const char* name = event.len > 0 ? buffer_.data() + offset + sizeof(inotify_event) : "";
    offset += sizeof(inotify_event) + event.len;
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      spdlog::error("mesh folder '{}' was removed or moved; serving the last good build", dir_);
      continue;
    }
    if (event.mask & IN_Q_OVERFLOW) {
      relevant = true;  // events were lost: rebuild to be sure
      continue;
    }
    if (name[0] == '.' || name[0] == '\0') continue;
    relevant = true;
  }
  if (!relevant) return;
  // Each event pushes the deadline back; a pending wait is cancelled by expires_after.
  timer_.expires_after(debounce_);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    on_change_();
  });
}

}  // namespace trellis::cp
