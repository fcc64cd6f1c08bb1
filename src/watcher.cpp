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

bool Watcher::changed(OpenFile& file) const {
  auto now = tree_.current_text(file.node);
  return !now || *now != file.sample;
}

bool Watcher::poll(OpenFile& file, void* handle) {
  bool ready = false;
  {
    std::lock_guard lock(file.mutex);
    if (!file.sampled) {  // never read: what it sees now is the baseline
      auto now = tree_.current_text(file.node);
      file.sample = now ? *now : std::string();
      file.sampled = true;
    }
    ready = changed(file);
  }
  if (handle == nullptr) return ready;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = handles_.try_emplace(&file, handle);
  if (!fresh) {
    discard_(it->second);
    it->second = handle;
  }
  count_ = handles_.size();
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
  std::lock_guard lock(mutex_);
  kicked_ = true;
  wake_.notify_one();
}

void Watcher::sweep() {
  for (auto it = handles_.begin(); it != handles_.end();) {
    bool ready = false;
    {
      std::lock_guard lock(it->first->mutex);
      ready = changed(*it->first);
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
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (handles_.empty()) {
      wake_.wait(lock, stop, [this] { return !handles_.empty(); });
    } else {
      wake_.wait_for(lock, stop, period_, [this] { return kicked_; });
    }
    kicked_ = false;
    if (!stop.stop_requested()) sweep();
  }
}

}  // namespace fieldfs
