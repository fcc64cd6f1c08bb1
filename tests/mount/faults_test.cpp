// SPDX-License-Identifier: MIT
// Faults (SPEC §2): a segment shrunk under load, a full filesystem, a daemon killed with
// SIGKILL, fsync of a file-backed segment. Nothing is lost and nothing crashes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

using FaultTest = MountTest;

TEST_F(FaultTest, ShrinkingTheSegmentUnderLoadGivesEioNeverACrash) {
  std::string seg = "/dev/shm/" + m_->source();
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0};
  std::atomic<long> eio{0};
  std::atomic<long> other{0};
  std::vector<std::thread> clients;
  for (const char* name : {"bar", "baz"}) {
    std::string path = m_->path(name);
    clients.emplace_back([&, path] {
      while (!stop) {
        std::string text = slurp(path);
        (text == "<errno 5>" ? eio : text.starts_with("<") ? other : ok)++;
      }
    });
    clients.emplace_back([&, path] {
      for (int i = 0; !stop; ++i) {
        int fd = ::open(path.c_str(), O_WRONLY);
        std::string t = std::to_string(i) + "\n";
        ssize_t n = ::write(fd, t.data(), t.size());
        (n == static_cast<ssize_t>(t.size()) ? ok : errno == EIO ? eio : other)++;
        ::close(fd);
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(::truncate(seg.c_str(), (i % 3 == 0) ? 0 : (i % 3 == 1) ? 4 : 8), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(::truncate(seg.c_str(), 8), 0);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(other.load(), 0) << "only EIO, no other error";
  EXPECT_GT(ok.load(), 0);
  ASSERT_EQ(sh("echo 3 > " + at("baz")).status, 0) << "served again once the size is back";
  EXPECT_EQ(slurp(m_->path("baz")), "3\n");
  RecordProperty("eio", static_cast<int>(eio.load()));
}

TEST_F(FaultTest, AFullFilesystemFailsAtMountTimeNotWithSigbusLater) {
  char tmpl[] = "/tmp/fieldfs-full-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_EQ(sh("mount -t tmpfs -o size=64k tmpfs " + quote(dir)).status, 0);
  sh("dd if=/dev/zero of=" + quote(dir + "/filler") + " bs=4k 2>/dev/null");
  char mtmpl[] = "/tmp/fieldfs-mnt-XXXXXX";
  std::string mnt = ::mkdtemp(mtmpl);
  auto r = sh(quote(fieldfs_binary()) + " " + quote(dir + "/seg") + " " + quote(mnt), 10);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err, "fieldfs: " + dir + "/seg: No space left on device\n");
  EXPECT_FALSE(is_mounted(mnt));
  sh("umount " + quote(dir) + "; rmdir " + quote(dir) + " " + quote(mnt));
}

TEST_F(FaultTest, FsyncFlushesAFileBackedSegmentBeforeASigkill) {
  char tmpl[] = "/tmp/fieldfs-sync-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string file = dir + "/state";
  start({}, file);
  int fd = ::open(m_->path("baz").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "-9\n", 3), 3);
  EXPECT_EQ(::fsync(fd), 0);
  ::close(fd);
  EXPECT_EQ(m_->signal_and_wait(SIGKILL), 128 + SIGKILL);
  m_.reset();
  EXPECT_EQ(sh("od -An -td4 " + quote(file) + " | tr -s ' '").out, " 0 -9\n");
  sh("rm -rf " + quote(dir));
}

}  // namespace
}  // namespace fieldfs::test
