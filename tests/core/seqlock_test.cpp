// SPDX-License-Identifier: MIT
// The protocol of SPEC §8 without a mount: sections, snapshots, compare-and-set, a stuck counter.
// The oracle is the invariant writers keep (y == -x, a string naming x), never the lock's code.
#include "fieldfs/seqlock.hpp"

#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace fieldfs {
namespace {

using namespace std::chrono_literals;

struct alignas(8) State {
  std::uint64_t seq;
  std::int64_t x;
  std::int64_t y;
  char name[24];
};

template <typename W>
void put(W& at, W v) {
  std::atomic_ref<W>(at).store(v, std::memory_order_relaxed);
}
template <typename W>
W get(W& at) {
  return std::atomic_ref<W>(at).load(std::memory_order_relaxed);
}

/// The string's words, each stored atomically (as the daemon and Mapped<T> store them).
void put_name(State& s, const std::string& text) {
  char buf[sizeof s.name] = {};
  std::memcpy(buf, text.data(), std::min(text.size(), sizeof buf - 1));
  for (std::size_t i = 0; i < sizeof buf; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, buf + i, 8);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(s.name + i)).store(w);
  }
}
std::string get_name(State& s) {
  char buf[sizeof s.name];
  for (std::size_t i = 0; i < sizeof buf; i += 8) {
    auto w = std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(s.name + i))
                 .load(std::memory_order_relaxed);
    std::memcpy(buf + i, &w, 8);
  }
  return std::string(buf, strnlen(buf, sizeof buf));
}

SeqLock lock_of(State& s, std::chrono::nanoseconds bound = SeqLock::kDefaultBound) {
  return SeqLock(reinterpret_cast<std::byte*>(&s.seq), 8, bound);
}

TEST(SeqLockTest, ASectionAdvancesTheCounterByTwo) {
  State s{};
  auto lock = lock_of(s);
  ASSERT_TRUE(lock.write([&]() -> Result<void> {
    EXPECT_EQ(get(s.seq), 1U);  // odd inside
    put(s.x, std::int64_t{5});
    return {};
  }));
  EXPECT_EQ(s.seq, 2U);
  EXPECT_EQ(s.x, 5);
}

TEST(SeqLockTest, TheSectionClosesWhenItsStoresFail) {
  State s{};
  auto lock = lock_of(s);
  auto r = lock.write([]() -> Result<void> { return fail(std::errc::io_error); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error);
  EXPECT_EQ(s.seq, 2U);
}

TEST(SeqLockTest, CompareAndSetEntersOnlyFromTheExpectedValue) {
  State s{};
  s.seq = 4;
  auto lock = lock_of(s);
  auto stale = lock.enter(2);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(s.seq, 4U);
  auto odd = lock.enter(5);  // an odd value can never be entered from
  ASSERT_FALSE(odd);
  auto fresh = lock.enter(4);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(s.seq, 5U);
  lock.leave(*fresh);
  EXPECT_EQ(s.seq, 6U);
}

TEST(SeqLockTest, AFourByteCounterWrapsThroughZero) {
  alignas(8) std::uint32_t words[2] = {0xFFFFFFFEU, 0xABCDU};
  SeqLock lock(reinterpret_cast<std::byte*>(&words[0]), 4);
  ASSERT_TRUE(lock.write([]() -> Result<void> { return {}; }));
  EXPECT_EQ(words[0], 0U);
  EXPECT_EQ(words[1], 0xABCDU);  // the neighbour is not part of the counter
  EXPECT_EQ(lock.value(), 0U);
}

TEST(SeqLockTest, AStuckOddCounterFailsReadersAndWritersWithinTheBoundAndIsReported) {
  State s{};
  s.seq = 7;  // a writer died inside a section
  auto lock = lock_of(s, 50ms);
  std::atomic<int> reports{0};
  std::atomic<std::uint64_t> reported{0};
  lock.on_stuck([&](std::uint64_t v) {
    reports++;
    reported = v;
  });
  auto start = SeqLock::Clock::now();
  auto r = lock.read([] {});
  auto w = lock.enter();
  auto took = SeqLock::Clock::now() - start;
  ASSERT_FALSE(r);
  ASSERT_FALSE(w);
  EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(w.error(), std::errc::resource_unavailable_try_again);
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 1s);
  EXPECT_EQ(reports, 2);
  EXPECT_EQ(reported, 7U);
  EXPECT_EQ(s.seq, 7U);  // a failed writer changes nothing
  s.seq = 8;             // the README's recovery: make it even
  EXPECT_TRUE(lock.read([] {}));
}

TEST(SeqLockTest, AWaitingReaderIsWokenWhenTheSectionCloses) {
  State s{};
  auto lock = lock_of(s, 5s);
  auto opened = lock.enter();
  ASSERT_TRUE(opened);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    EXPECT_TRUE(lock.read([] {}));
    done = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(done);  // waits while the section is open
  put(s.x, std::int64_t{1});
  lock.leave(*opened);
  reader.join();
  EXPECT_TRUE(done);
}

TEST(SeqLockTest, WaitChangeReturnsOnAWakeFromAnotherThread) {
  State s{};
  s.seq = 2;
  auto lock = lock_of(s);
  auto start = SeqLock::Clock::now();
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(lock.write([]() -> Result<void> { return {}; }));
  });
  lock.wait_change(2, 10s);
  writer.join();
  EXPECT_LT(SeqLock::Clock::now() - start, 5s);
  EXPECT_EQ(lock.value(), 4U);
}

/// Writers keep x == i, y == -i and name == "i" in sections; readers never see them disagree, and
/// every increment made by compare-and-set is kept.
TEST(SeqLockTest, ConcurrentSectionsNeverMixAndCompareAndSetLosesNoUpdate) {
  State s{};
  auto lock = lock_of(s, 10s);
  std::atomic<bool> stop{false};
  std::atomic<long> mixed{0};
  std::atomic<long> reads{0};
  constexpr int kWriters = 2;
  constexpr int kIncrements = 20000;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        std::int64_t x = 0;
        auto seen = lock.read([&] { x = get(s.x); });
        ASSERT_TRUE(seen);
        auto r = lock.write(
            [&]() -> Result<void> {
              put(s.x, x + 1);
              put(s.y, -(x + 1));
              put_name(s, std::to_string(x + 1));
              return {};
            },
            *seen);
        if (r) ++i;  // EAGAIN: someone else incremented in between; read again
      }
    });
  }
  std::thread reader([&] {
    while (!stop) {
      std::int64_t x = 0;
      std::int64_t y = 0;
      std::string name;
      if (!lock.read([&] {
            x = get(s.x);
            y = get(s.y);
            name = get_name(s);
          })) {
        continue;
      }
      reads++;
      if (y != -x || name != (x == 0 ? "" : std::to_string(x))) mixed++;
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(s.x, kWriters * kIncrements);
  EXPECT_EQ(s.seq, 2U * kWriters * kIncrements);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(mixed, 0);
}

}  // namespace
}  // namespace fieldfs
