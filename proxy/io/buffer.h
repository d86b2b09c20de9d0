// Connection read buffers, lent by a per-worker pool only while a connection has bytes in flight.
//
// A Buffer is one contiguous block: [0, begin) is consumed, [begin, end) holds unread bytes,
// [end, capacity) is free for the next read. An idle keep-alive connection returns its block
// to the pool, so it holds no buffer memory at all (it waits for readability without one).
// Blocks are of one standard size; a head larger than that grows the block once, up to the
// configured head limit, and such a large block is freed rather than pooled.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace trellis::proxy {

class BufferPool {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;

  // Keeps at most `max_cached` free blocks (2 MiB by default); more go back to the allocator,
  // so a burst of connections does not pin its memory.
  explicit BufferPool(size_t max_cached = 128) : max_cached_(max_cached) {}

  std::unique_ptr<char[]> take() {
    ++lent_;
    if (free_.empty()) return std::unique_ptr<char[]>(new char[kBlockSize]);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::unique_ptr<char[]> block) {
    --lent_;
    if (free_.size() < max_cached_) free_.push_back(std::move(block));
  }
  size_t cached() const { return free_.size(); }
  // Standard blocks currently held by connections.
  size_t lent() const { return lent_; }

 private:
  size_t max_cached_;
  size_t lent_ = 0;
  std::vector<std::unique_ptr<char[]>> free_;
};

class Buffer {
 public:
  explicit Buffer(BufferPool& pool) : pool_(&pool) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  BufferPool& pool() { return *pool_; }
  bool allocated() const { return data_ != nullptr; }
  void ensureAllocated() {
    if (!data_) {
      data_ = pool_->take();
      capacity_ = BufferPool::kBlockSize;
    }
  }
  void release() {
    if (data_) {
      if (capacity_ == BufferPool::kBlockSize) pool_->give(std::move(data_));
      data_.reset();
    }
    capacity_ = begin_ = end_ = 0;
  }

  char* base() { return data_.get(); }
  const char* base() const { return data_.get(); }
  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return capacity_; }
  size_t freeSpace() const { return capacity_ - end_; }
  char* writePtr() { return data_.get() + end_; }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void commit(size_t n) { end_ += n; }

  // Moves unread bytes to the front. Only between messages: views into the buffer die.
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  // Appends bytes, growing into a private block when the standard one is full (a response
  // head larger than a block is rare; the pooled block goes back to the pool).
  void append(const char* p, size_t n) {
    ensureAllocated();
    if (freeSpace() < n) {
      size_t cap = capacity_ * 2;
      while (cap - end_ < n) cap *= 2;
      auto bigger = std::unique_ptr<char[]>(new char[cap]);
      std::memcpy(bigger.get(), data_.get(), end_);
      if (capacity_ == BufferPool::kBlockSize) pool_->give(std::move(data_));
      data_ = std::move(bigger);
      capacity_ = cap;
    }
    std::memcpy(data_.get() + end_, p, n);
    end_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void clear() { begin_ = end_ = 0; }

  // Makes room for at least one more read, keeping every byte (and offsets) in place:
  // a full standard block grows to `limit` bytes once. Returns false at the limit.
  bool reserveForRead(size_t limit) {
    ensureAllocated();
    if (freeSpace() > 0) return true;
    if (capacity_ >= limit) return false;
    auto bigger = std::unique_ptr<char[]>(new char[limit]);
    std::memcpy(bigger.get(), data_.get(), end_);
    if (capacity_ == BufferPool::kBlockSize) pool_->give(std::move(data_));
    data_ = std::move(bigger);
    capacity_ = limit;
    return true;
  }

 private:
  BufferPool* pool_;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace trellis::proxy
