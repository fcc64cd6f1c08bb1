// SPDX-License-Identifier: MIT
// fieldfs-watch and the end of a mount (man/fieldfs-watch.1): its open files keep the mount busy
// for `fusermount3 -u`, as any open file does; a lazy unmount (`fusermount3 -uz`) or SIGTERM to
// the daemon ends the mount, the watcher exits 1 with a message, and the daemon exits 0.
#include <signal.h>

#include <chrono>
#include <future>
#include <thread>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

using Clock = std::chrono::steady_clock;

class WatchTest : public MountTest {
 protected:
  /// Starts fieldfs-watch on bar; returns once it has printed bar's value.
  void start_watch() {
    out_ = m_->dir() + ".watch";
    std::string watch = std::string(FIELDFS_WATCH_BINARY) + " " + at("bar");
    watcher_ = std::async(std::launch::async, [this, watch] {
      return sh(watch + " > " + quote(out_) + "; status=$?; cat " + quote(out_) + "; exit $status",
                20);
    });
    for (int i = 0; i < 500 && slurp(out_) != m_->path("bar") + " 0\n"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(slurp(out_), m_->path("bar") + " 0\n");
  }
  /// How the watcher ended, waiting at most two seconds for it.
  Outcome watch_outcome() {
    if (watcher_.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return {};
    return watcher_.get();
  }
  void TearDown() override {
    MountTest::TearDown();
    m_.reset();
    if (watcher_.valid()) watcher_.wait();
    ::unlink(out_.c_str());
  }
  std::string out_;
  std::future<Outcome> watcher_;
};

TEST_F(WatchTest, ALazyUnmountEndsTheWatcherAndTheDaemon) {
  start_watch();
  auto busy = sh("fusermount3 -u " + quote(m_->dir()));
  EXPECT_NE(busy.status, 0) << "an open file keeps the mount busy, as the man page says";
  EXPECT_NE(busy.err.find("Device or resource busy"), std::string::npos) << busy.err;
  ASSERT_EQ(sh("fusermount3 -uz " + quote(m_->dir())).status, 0);
  auto start = Clock::now();
  Outcome w = watch_outcome();
  EXPECT_EQ(w.status, 1) << "the watcher exits after the unmount";
  EXPECT_EQ(w.err, "fieldfs-watch: " + m_->path("bar") + ": unmounted\n");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(m_->stop(), 0) << "and then the daemon: " << m_->daemon_stderr();
  m_.reset();
}

TEST_F(WatchTest, SigtermToTheDaemonEndsTheWatcher) {
  start_watch();
  EXPECT_EQ(m_->signal_and_wait(SIGTERM), 0) << m_->daemon_stderr();
  Outcome w = watch_outcome();
  EXPECT_EQ(w.status, 1);
  EXPECT_TRUE(w.err.starts_with("fieldfs-watch: " + m_->path("bar") + ": ")) << w.err;
  m_.reset();
}

}  // namespace
}  // namespace fieldfs::test
