// SPDX-License-Identifier: MIT
#include "core/watcher.hpp"

#include <algorithm>

namespace fieldfs {

namespace {
/// A sweep waits at least this many times the last sweep's duration after it.
constexpr int kPause = 10;
/// The longest single futex wait of the thread (-o seq=).
constexpr std::chrono::milliseconds kStopSlice{50};
}  // namespace

Watcher::Watcher(const Tree& tree, std::chrono::milliseconds period, Notify notify, Discard discard)
    : tree_(tree), period_(period), notify_(std::move(notify)), discard_(std::move(discard)) {}

Watcher::~Watcher() { stop(); }

void Watcher::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void Watcher::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  std::lock_guard lock(mutex_);
  for (auto& [file, handle] : handles_) discard_(handle);
  handles_.clear();
  count_ = 0;
}

bool Watcher::changed(OpenFile& file, Sample& image, const std::string*& same) const {
  if (!file.basis) return true;
  if (file.basis.get() == same) return false;
  if (tree_.unchanged(file.node, *file.basis)) {  // the common case: compared in place, no copy
    same = file.basis.get();
    return false;
  }
  bool view = tree_.view_of(file.node).has_value();
  Sample now = view ? image : nullptr;
  if (!now) {
    auto bytes = tree_.current_bytes(file.node);
    if (!bytes) return true;
    now = std::move(*bytes);
    if (view) image = now;
  }
  if (tree_.differs(file.node, file.basis, now)) return true;
  file.basis = std::move(now);  // the same value in other bytes: compare against these from now on
  return false;
}

bool Watcher::poll(OpenFile& file, void* handle) {
  // The handle is kept before the field is compared, under the sweep's lock: a change after the
  // comparison moves the counter past what the thread waits on, so it sweeps this handle too.
  std::unique_lock lock(mutex_, std::defer_lock);
  if (handle != nullptr) {
    lock.lock();
    auto [it, fresh] = handles_.try_emplace(&file, handle);
    if (!fresh) {
      discard_(it->second);
      it->second = handle;
    }
    count_ = handles_.size();
  }
  bool ready = false;
  {
    std::lock_guard file_lock(file.mutex);
    if (file.basis) {
      Sample image;
      const std::string* same = nullptr;
      ready = changed(file, image, same);
    } else {  // never read: what it sees now is the baseline
      auto now = tree_.current_bytes(file.node);
      if (now) file.basis = std::move(*now);
      ready = !now;
    }
  }
  if (handle == nullptr) return ready;
  lock.unlock();
  { std::lock_guard wake(wake_mutex_); }  // the thread has seen count_ or is waiting: no lost wake
  wake_.notify_one();
  return ready;
}

void Watcher::forget(OpenFile& file) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = handles_.find(&file); it != handles_.end()) {
    discard_(it->second);
    handles_.erase(it);
    count_ = handles_.size();
  }
}

void Watcher::kick() {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  bool first = false;
  {
    std::lock_guard wake(wake_mutex_);  // never held across a sweep: a write waits for none
    first = !kicked_;
    kicked_ = true;
  }
  if (first) wake_.notify_one();  // later kicks of a burst find the thread woken already
}

void Watcher::sweep() {
  Sample image;                       // of the struct, taken at most once, for .raw and .json
  const std::string* same = nullptr;  // a basis this sweep found unchanged (shared by many)
  for (auto it = handles_.begin(); it != handles_.end();) {
    bool ready = false;
    {
      std::lock_guard lock(it->first->mutex);
      ready = changed(*it->first, image, same);
    }
    if (ready) {
      notify_(it->second);
      it = handles_.erase(it);
    } else {
      ++it;
    }
  }
  count_ = handles_.size();
}

void Watcher::wait_for_counter(const SeqLock& counter, std::uint32_t seen,
                               std::chrono::steady_clock::duration timeout,
                               const std::stop_token& stop) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = until - std::chrono::steady_clock::now();
    if (stop.stop_requested() || counter.low() != seen || left <= left.zero()) return;
    // In slices: a stop request that lands just before the wait is seen within one.
    counter.wait_change(seen, std::min<std::chrono::steady_clock::duration>(left, kStopSlice));
  }
}

void Watcher::run(const std::stop_token& stop) {
  const SeqLock* counter = tree_.sections().shared();
  // A stop request wakes a futex wait as it wakes a condition variable wait.
  std::stop_callback wake_on_stop(stop, [counter] {
    if (counter != nullptr) counter->wake();
  });
  std::chrono::steady_clock::duration cost{};
  std::uint32_t seen = counter != nullptr ? counter->low() : 0;
  while (!stop.stop_requested()) {
    {
      std::unique_lock wake(wake_mutex_);
      // A sweep's cost grows with what is watched: a burst of writes gets a sweep at most every
      // kPause sweeps' time, so sweeps take at most about 1/kPause of a core.
      auto rest = std::min<std::chrono::steady_clock::duration>(period_, kPause * cost);
      wake_.wait_for(wake, stop, rest, [] { return false; });
      if (count_.load() == 0) {
        wake_.wait(wake, stop, [this] { return count_.load() != 0; });
      } else if (counter != nullptr) {
        // -o seq=: a protocol writer's FUTEX_WAKE ends the wait at once; stores of writers that
        // do not follow it are still sampled every period.
        wake.unlock();
        wait_for_counter(*counter, seen, period_ - rest, stop);
        wake.lock();
      } else {
        wake_.wait_for(wake, stop, period_ - rest, [this] { return kicked_; });
      }
      kicked_ = false;
    }
    if (stop.stop_requested()) break;
    auto start = std::chrono::steady_clock::now();
    if (counter != nullptr)
      seen = counter->low();  // before the sweep: a later change ends the wait
    std::lock_guard lock(mutex_);
    sweep();
    cost = std::chrono::steady_clock::now() - start;
  }
}

}  // namespace fieldfs
