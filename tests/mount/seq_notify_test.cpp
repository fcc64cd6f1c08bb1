// SPDX-License-Identifier: MIT
// Change notification with seq= (SPEC §6, §8): epoll (EPOLLPRI) blocked on a field file returns at
// once when a protocol writer (SeqLock through this test's own mapping: it wakes the counter's
// futex word) stores in a section, even with poll_ms=1000; a plain store that does not follow
// the protocol is still found by sampling within about poll_ms.
#include <sys/epoll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "seq_support.hpp"

namespace fieldfs::test::seq {
namespace {

using Clock = std::chrono::steady_clock;

/// The wake-up delays in ms of `samples` rounds on `field`: read it (so that it is not changed
/// for this open file), then `store(value)` from another thread after a few random ms while
/// this one is blocked in epoll_wait; the delay is from the store to epoll_wait's return.
/// A round that does not wake within 3 s, or reads back another value, fails the test.
std::vector<double> wakeups(const std::string& field, int samples,
                            const std::function<void(int)>& store) {
  std::vector<double> ms;
  int fd = ::open(field.c_str(), O_RDONLY);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event want{};
  want.events = EPOLLPRI;
  if (fd < 0 || ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &want) != 0) {
    ADD_FAILURE() << "cannot watch " << field << ": errno " << errno;
    return ms;
  }
  std::mt19937 random(7);
  char buf[64];
  for (int i = 0; i < samples; ++i) {
    (void)::pread(fd, buf, sizeof buf, 0);
    epoll_event ev{};
    (void)::epoll_wait(ep, &ev, 1, 0);  // level-triggered: settle what the last round left
    int value = 1000 + i;
    Clock::time_point stored;
    std::thread writer([&, pause = 3 + random() % 12] {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause));
      stored = Clock::now();
      store(value);
    });
    int n = ::epoll_wait(ep, &ev, 1, 3000);
    Clock::time_point woke = Clock::now();
    writer.join();
    if (n != 1 || (ev.events & EPOLLPRI) == 0) {
      ADD_FAILURE() << "round " << i << ": epoll_wait did not report EPOLLPRI within 3 s";
      break;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(woke - stored).count());
    ssize_t got = ::pread(fd, buf, sizeof buf - 1, 0);
    EXPECT_EQ(std::string(buf, got > 0 ? static_cast<std::size_t>(got) : 0),
              std::to_string(value) + "\n");
  }
  ::close(ep);
  ::close(fd);
  return ms;
}

double median(std::vector<double> v) {
  if (v.empty()) return 1e9;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class SeqNotifyTest : public SeqTest, public ::testing::WithParamInterface<const Variant*> {};

TEST_P(SeqNotifyTest, AProtocolWriterWakesABlockedEpollAtOnceEvenWithPollMs1000) {
  start(*GetParam(), "poll_ms=1000");
  SeqLock lock = image().lock();
  std::vector<double> ms = wakeups(path("x"), 20, [&](int value) {
    auto done = lock.write([&] {
      image().set_x(value);
      image().set_y(-value);
      return Result<void>{};
    });
    EXPECT_TRUE(done);
  });
  ASSERT_EQ(ms.size(), 20U);
  std::printf(
      "protocol writer -> epoll_wait (poll_ms 1000, %s counter): median %.3f ms, worst "
      "%.3f ms\n",
      GetParam()->label, median(ms), *std::max_element(ms.begin(), ms.end()));
  RecordProperty("median_ms", std::to_string(median(ms)));
  EXPECT_LT(median(ms), 100.0) << "sampling every 1000 ms would take about 500";
  EXPECT_LE(std::count_if(ms.begin(), ms.end(), [](double d) { return d > 500; }), 1);
}

TEST_P(SeqNotifyTest, APlainStoreOutsideTheProtocolIsStillFoundBySampling) {
  start(*GetParam(), "poll_ms=50");
  std::uint64_t counter = image().counter();
  std::vector<double> ms = wakeups(path("x"), 10, [&](int value) { image().set_x(value); });
  ASSERT_EQ(ms.size(), 10U);
  std::printf("plain store -> epoll_wait (poll_ms 50, %s counter): median %.3f ms, worst %.3f ms\n",
              GetParam()->label, median(ms), *std::max_element(ms.begin(), ms.end()));
  EXPECT_LT(median(ms), 150.0) << "about poll_ms";
  EXPECT_LT(*std::max_element(ms.begin(), ms.end()), 1000.0);
  EXPECT_EQ(image().counter(), counter) << "reading and polling never enter a section";
}

INSTANTIATE_TEST_SUITE_P(Seq, SeqNotifyTest, ::testing::Values(&kPos, &kPos8, &kPosH),
                         variant_label);

}  // namespace
}  // namespace fieldfs::test::seq
