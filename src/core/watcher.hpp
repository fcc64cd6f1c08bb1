// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/tree.hpp"

namespace fieldfs {

/// Change notification for poll/select/epoll, sysfs-style: a field file is "ready" once its
/// value differs from what that open file last read. One thread samples the watched fields
/// every period and wakes their pollers; with -o seq= it also waits on the counter's futex word,
/// so a protocol writer's section is swept at once. It sleeps when nobody polls, so an idle
/// daemon uses no CPU. Notifications are sent only from that thread, never inside a request
/// handler. A sweep compares the mapping in place with the bytes each file last read (once per
/// distinct bytes), copies or renders only where they differ, and never holds up a write (kick
/// takes no lock a sweep holds).
class Watcher {
 public:
  /// Called from the watcher's thread: wake the poller behind `handle`, then free it.
  using Notify = std::function<void(void* handle)>;
  /// Frees a handle that will never be notified (its file closed, or the watcher stopped).
  using Discard = std::function<void(void* handle)>;

  Watcher(const Tree& tree, std::chrono::milliseconds period, Notify notify, Discard discard);
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher();

  /// Starts the sampling thread (after the daemon has detached: threads do not survive fork).
  void start();
  /// Stops the thread and discards every handle; pollers are released by the unmount.
  void stop();

  /// A poll of `file`: true if its field differs from what it last read (or cannot be read).
  /// A non-null `handle` is kept, replacing an older one, and notified once it differs.
  bool poll(OpenFile& file, void* handle);
  /// `file` is closing: its handle is discarded.
  void forget(OpenFile& file);
  /// A write through the mount changed something: sample now rather than at the next period.
  void kick();

  /// How many files are watched right now.
  std::size_t watched() const { return count_.load(std::memory_order_relaxed); }

 private:
  /// Whether `file` would read another value now (caller holds file.mutex). `image`: the
  /// struct's image, taken at most once per sweep; `same`: a basis found unchanged already.
  bool changed(OpenFile& file, Sample& image, const std::string*& same) const;
  void sweep();  // caller holds mutex_
  void run(const std::stop_token& stop);
  /// -o seq=: waits until the counter's futex word is no longer `seen`, `timeout` passes or a
  /// stop is requested.
  static void wait_for_counter(const SeqLock& counter, std::uint32_t seen,
                               std::chrono::steady_clock::duration timeout,
                               const std::stop_token& stop);

  const Tree& tree_;
  std::chrono::milliseconds period_;
  Notify notify_;
  Discard discard_;
  std::mutex mutex_;       ///< handles_ and the sweep over them
  std::mutex wake_mutex_;  ///< kicked_ and the thread's wait; never held across a sweep
  std::condition_variable_any wake_;
  std::unordered_map<OpenFile*, void*> handles_;
  std::atomic<std::size_t> count_{0};
  bool kicked_ = false;
  std::jthread thread_;
};

}  // namespace fieldfs
