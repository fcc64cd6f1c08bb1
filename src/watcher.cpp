// SPDX-License-Identifier: MIT
#include "fieldfs/watcher.hpp"

namespace fieldfs {

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

bool Watcher::changed(OpenFile& file, const Sample& now) const {
  return !file.basis || tree_.differs(file.node, file.basis, now);
}

bool Watcher::changed(OpenFile& file) const {
  auto now = tree_.current_bytes(file.node);
  return !now || changed(file, *now);
}

bool Watcher::poll(OpenFile& file, void* handle) {
  bool ready = false;
  {
    std::lock_guard lock(file.mutex);
    if (file.basis) {
      ready = changed(file);
    } else {  // never read: what it sees now is the baseline
      auto now = tree_.current_bytes(file.node);
      if (now) file.basis = std::move(*now);
      ready = !now;
    }
  }
  if (handle == nullptr) return ready;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = handles_.try_emplace(&file, handle);
  if (!fresh) {
    discard_(it->second);
    it->second = handle;
  }
  count_ = handles_.size();
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
  {
    std::lock_guard wake(wake_mutex_);  // never held across a sweep: a write waits for none
    kicked_ = true;
  }
  wake_.notify_one();
}

void Watcher::sweep() {
  Sample image;  // one image of the struct serves every .raw and .json file of this sweep
  for (auto it = handles_.begin(); it != handles_.end();) {
    OpenFile& file = *it->first;
    bool ready = false;
    {
      std::lock_guard lock(file.mutex);
      if (!tree_.view_of(file.node)) {
        ready = changed(file);
      } else if (!image) {
        auto now = tree_.current_bytes(file.node);
        ready = !now || changed(file, *now);
        if (now && tree_.view_of(file.node) != View::schema) image = std::move(*now);
      } else {
        ready = tree_.view_of(file.node) != View::schema && changed(file, image);
      }
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

void Watcher::run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock wake(wake_mutex_);
      if (count_.load() == 0) {
        wake_.wait(wake, stop, [this] { return count_.load() != 0; });
      } else {
        wake_.wait_for(wake, stop, period_, [this] { return kicked_; });
      }
      kicked_ = false;
    }
    if (stop.stop_requested()) break;
    std::lock_guard lock(mutex_);
    sweep();
  }
}

}  // namespace fieldfs
