// SPDX-License-Identifier: MIT
// What pollers and readers of a large struct's .json cost the daemon (SPEC §6, §7): a watcher
// sweep compares bytes and never holds up a write; open files that read the same bytes share one
// sample, and the samples of all open files together stay within a budget.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "header_file.hpp"

namespace fieldfs::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kText = 1000000;
/// The README's bound on the bytes of all open files' samples together.
constexpr long kSampleBudget = 64L << 20;

/// struct big { int x; char text[1000000]; } with text all 'a': a .json of about 1 MB.
class BigStruct : public ::testing::Test {
 protected:
  void SetUp() override {
    m_ = std::make_unique<Mount>(std::vector<std::string>{"-o", header_.option()});
    ASSERT_TRUE(m_->mounted()) << m_->daemon_stderr();
    map_ = static_cast<char*>(m_->map(4 + kText));
    ASSERT_NE(map_, nullptr);
    std::memset(map_ + 4, 'a', kText);
  }
  void TearDown() override { EXPECT_EQ(m_->stop(), 0) << m_->daemon_stderr(); }

  HeaderFile header_{"struct big { int x; char text[1000000]; };\n"};
  std::unique_ptr<Mount> m_;
  char* map_ = nullptr;
};

/// Microseconds of open, write("5\n"), close: `echo 5 > path` without the shell. The least of
/// five medians of `count`, 50 ms apart, so that a burst of load from elsewhere on the machine
/// is not taken for the daemon's own cost.
double write_latency_us(const std::string& path, int count) {
  double best = -1;
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::vector<double> took;
    for (int i = 0; i < count; ++i) {
      auto start = Clock::now();
      int fd = ::open(path.c_str(), O_WRONLY);
      bool ok = fd >= 0 && ::write(fd, "5\n", 2) == 2;
      ok = ::close(fd) == 0 && ok;
      took.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (!ok) return -1;
    }
    std::sort(took.begin(), took.end());
    double median = took[took.size() / 2];
    best = best < 0 ? median : std::min(best, median);
  }
  return best;
}

/// Threads that each read the file whole, then wait in poll(POLLPRI) until stopped.
class Pollers {
 public:
  Pollers(const std::string& path, int count) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, path] { run(path); });
  }
  ~Pollers() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  int armed() const { return armed_; }
  int woken() const { return woken_; }

 private:
  void run(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    std::vector<char> buf(1 << 16);
    while (fd >= 0 && ::read(fd, buf.data(), buf.size()) > 0) {
    }
    ++armed_;
    while (!stop_) {
      pollfd p{fd, POLLPRI, 0};
      if (::poll(&p, 1, 200) > 0 && (p.revents & POLLPRI) != 0) {
        ++woken_;
        break;
      }
    }
    ::close(fd);
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> armed_{0};
  std::atomic<int> woken_{0};
  std::vector<std::thread> threads_;
};

long ticks_over_a_second(pid_t pid) {
  long before = cpu_ticks(pid);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return cpu_ticks(pid) - before;
}

TEST_F(BigStruct, IdlePollersOnJsonCostLittleCpuAndNeverSlowAWrite) {
  ASSERT_GT(write_latency_us(m_->path("x"), 1), 0) << "x is 5 from now on";
  double alone = write_latency_us(m_->path("x"), 30);
  long idle = ticks_over_a_second(m_->pid());
  Pollers pollers(m_->path(".json"), 8);
  for (int i = 0; i < 1000 && pollers.armed() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(pollers.armed(), 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  long polled = ticks_over_a_second(m_->pid());
  double with = write_latency_us(m_->path("x"), 30);
  std::printf(
      "daemon CPU: %ld ticks/s idle, %ld with 8 pollers on a 1 MB .json; echo 5: %.0f us "
      "alone, %.0f us with the pollers\n",
      idle, polled, alone, with);
  EXPECT_EQ(pollers.woken(), 0) << "writing the value x already has changes nothing";
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // 1-2 ticks/s here; 32 when each sweep rendered every .json. Under the sanitizers every copy
  // and compare of the 1 MB image is instrumented (42 and 69 ticks/s seen under ASan): CPU time
  // measures the instrumentation there, so it is judged in the plain build only.
  EXPECT_LE(polled, idle + 20) << "clock ticks are 1/100 s of one CPU";
#endif
  EXPECT_GT(alone, 0);
  // Parity most runs on a shared 2-core machine, up to ~4x in a few; 7700x (208 ms) when a
  // write's kick waited for a sweep that rendered every .json. Under the sanitizers a sweep's
  // instrumented compare of 1 MB takes tens of milliseconds of the CPU the write also needs, so
  // there the write's latency measures the scheduler, not a lock (76 ms seen once under ASan).
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LE(with, 5 * alone) << "a write waits for no sweep";
#endif
}

TEST_F(BigStruct, AHundredReadersOfOneByteShareOneSample) {
  auto rendering = static_cast<long>(slurp(m_->path(".json")).size());
  ASSERT_GT(rendering, static_cast<long>(kText));
  long before = vm_rss_kib(m_->pid());
  std::vector<int> fds;
  for (int i = 0; i < 100; ++i) {
    int fd = ::open(m_->path(".json").c_str(), O_RDONLY);
    char c = 0;
    EXPECT_EQ(::read(fd, &c, 1), 1);
    EXPECT_EQ(c, '{');
    fds.push_back(fd);
  }
  long after = vm_rss_kib(m_->pid());
  for (int fd : fds) ::close(fd);
  std::printf("daemon VmRSS %ld KiB, %ld KiB with 100 readers of a %ld-byte .json\n", before, after,
              rendering);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Under the sanitizers freed memory waits in a quarantine (ASan) or shadow (TSan): RSS is no
  // measure there. The sharing itself is shown by the unit tests of SampleStore.
  EXPECT_LE((after - before) * 1024, 3 * rendering) << "at most a few renderings, not 100";
#endif
}

TEST_F(BigStruct, ReadersOfEverNewSamplesMeetTheBudgetWithEnomem) {
  long before = vm_rss_kib(m_->pid());
  std::vector<int> fds;
  int refused = 0;
  for (std::size_t i = 0; i < 100; ++i) {
    map_[4 + i] = 'b';  // every open reads a struct no other open has seen
    int fd = ::open(m_->path(".json").c_str(), O_RDONLY);
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      EXPECT_EQ(errno, ENOMEM);
      ++refused;
    }
    fds.push_back(fd);
  }
  long after = vm_rss_kib(m_->pid());
  for (int fd : fds) ::close(fd);
  std::printf("%d of 100 reads refused; daemon VmRSS %ld KiB, then %ld KiB\n", refused, before,
              after);
  EXPECT_GT(refused, 0) << "100 samples of 2 MB each do not fit in 64 MiB";
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LE((after - before) * 1024, kSampleBudget + (8L << 20));  // RSS: see above
#endif
  EXPECT_EQ(slurp(m_->path(".json")).substr(0, 6), "{\"x\": ") << "closed files free theirs";
}

}  // namespace
}  // namespace fieldfs::test
