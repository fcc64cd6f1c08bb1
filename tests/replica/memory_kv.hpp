// SPDX-License-Identifier: MIT
// A model of what the replica asks of etcd, written from etcd's contract (one key: a revision
// that grows with every put, a put that commits only on the expected revision, a watch that sees
// every put in order): a map under a mutex. `down` makes every call fail as an unreachable
// cluster does.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include "replica/kv.hpp"

namespace fieldfs::test {

class MemoryKv final : public KeyValue {
 public:
  Result<KeyState> get(const std::string&) override {
    std::lock_guard lock(mutex_);
    if (down_) return fail(std::errc::io_error);
    return current();
  }

  Result<PutResult> put_if(const std::string&, std::int64_t expected,
                           const std::string& value) override {
    std::lock_guard lock(mutex_);
    if (down_) return fail(std::errc::io_error);
    if (current().mod_revision != expected) return PutResult{false, 0, current()};
    history_.push_back(KeyState{true, value, static_cast<std::int64_t>(history_.size()) + 1});
    changed_.notify_all();
    return PutResult{true, history_.back().mod_revision, {}};
  }

  Result<void> watch(const std::string&, std::int64_t from,
                     const std::function<void(const KeyState&)>& on_put,
                     std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    for (auto next = static_cast<std::size_t>(std::max<std::int64_t>(from, 1));;) {
      changed_.wait(lock, stop, [&] { return down_ || history_.size() >= next; });
      if (stop.stop_requested()) return {};
      if (down_) return fail(std::errc::io_error);
      KeyState k = history_[next - 1];
      ++next;
      lock.unlock();
      on_put(k);
      lock.lock();
    }
  }

  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
    changed_.notify_all();
  }
  KeyState last() {
    std::lock_guard lock(mutex_);
    return current();
  }

 private:
  KeyState current() const { return history_.empty() ? KeyState{} : history_.back(); }

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::vector<KeyState> history_;  ///< put i has revision i + 1
  bool down_ = false;
};

}  // namespace fieldfs::test
