// SPDX-License-Identifier: MIT
#include "core/watcher.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>

#include "tree_fixture.hpp"

namespace fieldfs {
namespace {

class WatcherTest : public TreeFixture {
 protected:
  void SetUp() override {
    TreeFixture::SetUp();
    watcher_.emplace(
        *tree_, std::chrono::milliseconds(5), [this](void* h) { record(notified_, h); },
        [this](void* h) { record(discarded_, h); });
    watcher_->start();
    file_.node = 1;  // bar
  }
  void TearDown() override {
    watcher_.reset();
    TreeFixture::TearDown();
  }
  void record(std::set<void*>& into, void* h) {
    std::lock_guard lock(mutex_);
    into.insert(h);
  }
  bool was(std::set<void*>& in, void* h) {
    for (int i = 0; i < 400; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (in.count(h) != 0) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  /// bar in the mapping, stored atomically as another process would (the watcher reads it).
  std::atomic_ref<std::int32_t> bar() {
    return std::atomic_ref<std::int32_t>(*reinterpret_cast<std::int32_t*>(segment_->data()));
  }

  std::optional<Watcher> watcher_;
  OpenFile file_;
  std::mutex mutex_;
  std::set<void*> notified_;
  std::set<void*> discarded_;
  int handle1_ = 0;
  int handle2_ = 0;
};

TEST_F(WatcherTest, AStoreToTheMappingWakesThePoller) {
  ASSERT_TRUE(tree_->read(file_, 0, 100));
  EXPECT_FALSE(watcher_->poll(file_, &handle1_)) << "nothing changed since the read";
  EXPECT_EQ(watcher_->watched(), 1U);
  bar().store(5);
  EXPECT_TRUE(was(notified_, &handle1_));
  EXPECT_TRUE(watcher_->poll(file_, nullptr)) << "still differs from what it last read";
  ASSERT_TRUE(tree_->read(file_, 0, 100));
  EXPECT_FALSE(watcher_->poll(file_, nullptr));
}

TEST_F(WatcherTest, AJsonPollerWakesForAChangedFieldNotForUnchangedBytes) {
  file_.node = schema_.node_count() + 1;  // .json
  ASSERT_TRUE(tree_->read(file_, 0, 100));
  EXPECT_FALSE(watcher_->poll(file_, &handle1_));
  bar().store(0);  // the value it already has
  watcher_->kick();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(notified_.count(&handle1_), 0U);
  }
  bar().store(7);
  EXPECT_TRUE(was(notified_, &handle1_));
}

TEST_F(WatcherTest, AFileNeverReadTakesTheValueAtItsFirstPollAsBaseline) {
  bar().store(3);
  EXPECT_FALSE(watcher_->poll(file_, &handle1_));
  bar().store(4);
  EXPECT_TRUE(was(notified_, &handle1_));
}

TEST_F(WatcherTest, ANewHandleReplacesTheOldAndClosingDiscardsIt) {
  EXPECT_FALSE(watcher_->poll(file_, &handle1_));
  EXPECT_FALSE(watcher_->poll(file_, &handle2_));
  EXPECT_TRUE(was(discarded_, &handle1_));
  watcher_->forget(file_);
  EXPECT_TRUE(was(discarded_, &handle2_));
  EXPECT_EQ(watcher_->watched(), 0U);
}

TEST_F(WatcherTest, StopDiscardsEveryHandle) {
  EXPECT_FALSE(watcher_->poll(file_, &handle1_));
  watcher_->stop();
  EXPECT_TRUE(was(discarded_, &handle1_));
}

TEST_F(WatcherTest, KickSamplesAtOnceRatherThanAtThePeriod) {
  Watcher slow(
      *tree_, std::chrono::hours(1), [this](void* h) { record(notified_, h); },
      [this](void* h) { record(discarded_, h); });
  slow.start();
  EXPECT_FALSE(slow.poll(file_, &handle2_));
  bar().store(9);
  slow.kick();
  EXPECT_TRUE(was(notified_, &handle2_));
}

}  // namespace
}  // namespace fieldfs
