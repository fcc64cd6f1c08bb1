// SPDX-License-Identifier: MIT
// Change notification (SPEC §6) with Python's poll, epoll and select as clients, a direct
// mapping and the mount as writers, fieldfs-watch for shells, and pollers at shutdown.
#include <signal.h>

#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include "fixture.hpp"
#include "header_file.hpp"

namespace fieldfs::test {
namespace {

using PollTest = MountTest;
using Clock = std::chrono::steady_clock;

std::string client(const std::string& args) {
  return "python3 " + quote(std::string(source_dir()) + "/tests/mount/poll_client.py") + " " + args;
}

TEST_F(PollTest, EpollWakesForStoresToTheMappingAndWritesThroughTheMount) {
  auto r = sh(client("latency " + m_->path("bar") + " /dev/shm/" + m_->source() + " 40"), 60);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::istringstream lines(r.out);
  std::string how;
  double median = 0;
  double worst = 0;
  while (lines >> how >> median >> worst) {
    std::printf("wake-up latency via %s: median %.2f ms, worst %.2f ms (poll_ms 10)\n", how.c_str(),
                median, worst);
    EXPECT_LT(worst, 500.0) << how;
    RecordProperty(how + "_median_ms", std::to_string(median));
    RecordProperty(how + "_worst_ms", std::to_string(worst));
  }
}

TEST_F(PollTest, SelectReportsAChangeAsExceptional) {
  auto r = sh(client("select " + m_->path("bar") + " /dev/shm/" + m_->source()));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "select ready 4242\n");
}

TEST_F(PollTest, PollersNeverHoldUpSigterm) {
  std::string log = m_->dir() + ".pollers";
  auto pollers = std::async(std::launch::async, [&] {
    return sh("(" + client("wait " + m_->path("bar") + " x") + " & " +
                  client("wait " + m_->path("baz") + " x") + " & wait) > " + quote(log),
              20);
  });
  auto waiting = [&] { return sh("grep -c waiting " + quote(log)).out == "2\n"; };
  for (int i = 0; i < 1000 && !waiting(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(waiting()) << "both pollers are inside poll()";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = Clock::now();
  EXPECT_EQ(m_->signal_and_wait(SIGTERM), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1)) << "the daemon exits at once";
  ASSERT_EQ(pollers.wait_for(std::chrono::seconds(2)), std::future_status::ready)
      << "pollers are released";
  EXPECT_EQ(pollers.get().status, 0);
  EXPECT_EQ(sh("grep -c released " + quote(log)).out, "2\n") << "both pollers return";
  ::unlink(log.c_str());
  m_.reset();
}

TEST_F(PollTest, FieldfsWatchPrintsEachChangeForShellLoops) {
  std::string watch = std::string(FIELDFS_WATCH_BINARY) + " " + at("bar") + " " + at("baz");
  auto watcher = std::async(std::launch::async, [&] { return sh("timeout 3 " + watch, 10); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  foo()[0] = 5;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(sh("echo 6 > " + at("baz")).status, 0);
  auto r = watcher.get();
  EXPECT_EQ(r.out, m_->path("bar") + " 0\n" + m_->path("baz") + " 0\n" + m_->path("bar") + " 5\n" +
                       m_->path("baz") + " 6\n");
}

TEST_F(PollTest, AnIdleDaemonUsesNoCpu) {
  long before = cpu_ticks(m_->pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(cpu_ticks(m_->pid()) - before, 0) << "no wake-ups while nobody polls";
}

}  // namespace
}  // namespace fieldfs::test
