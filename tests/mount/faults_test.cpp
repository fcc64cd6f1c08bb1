// SPDX-License-Identifier: MIT
// Faults (SPEC §2): a segment shrunk under load, a full filesystem, fsync of a file-backed
// segment on a real block device. Nothing is lost and nothing crashes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
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

/// An ext4 filesystem on a loop device, in a fresh directory; unmounted (which detaches the
/// loop device) and removed even when the test fails.
class LoopExt4 {
 public:
  LoopExt4() {
    char tmpl[] = "/tmp/fieldfs-ext4-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    image_ = dir_ + "/image";
    mnt_ = dir_ + "/fs";
    ok_ = sh("truncate -s 16M " + quote(image_) + " && mkfs.ext4 -q -F " + quote(image_) +
             " && mkdir " + quote(mnt_) + " && mount -o loop " + quote(image_) + " " + quote(mnt_))
              .status == 0;
  }
  LoopExt4(const LoopExt4&) = delete;
  LoopExt4& operator=(const LoopExt4&) = delete;
  ~LoopExt4() {
    if (is_mounted(mnt_) && sh("umount " + quote(mnt_)).status != 0) sh("umount -l " + quote(mnt_));
    sh("rm -rf " + quote(dir_));
  }
  bool ok() const { return ok_; }
  const std::string& mnt() const { return mnt_; }
  /// Whether the image file holds these bytes: what the loop device has written, which is not
  /// the ext4 file's page cache (the image is another inode, on the host's filesystem).
  bool image_holds(const std::string& bytes) const {
    return slurp(image_).find(bytes) != std::string::npos;
  }

 private:
  std::string dir_;
  std::string image_;
  std::string mnt_;
  bool ok_ = false;
};

// A store through the mount dirties the ext4 file's page cache; only writeback puts it on the
// device, and the kernel writes dirty pages back after dirty_expire_centisecs (30 s by default).
// So right after fsync the bytes are in the image only if fsync flushed them.
class FsyncTest : public MountTest {
 protected:
  void SetUp() override {}
  /// The daemon first: the ext4 filesystem cannot be unmounted while it holds the segment.
  void TearDown() override {
    MountTest::TearDown();
    m_.reset();
    fs_.reset();
  }
  std::unique_ptr<LoopExt4> fs_ = std::make_unique<LoopExt4>();
};

TEST_F(FsyncTest, FsyncPutsTheValueOnTheDevice) {
  LoopExt4& fs = *fs_;
  ASSERT_TRUE(fs.ok()) << "mkfs.ext4 (e2fsprogs) and a loop device are needed";
  start({}, fs.mnt() + "/state");
  std::srand(static_cast<unsigned>(::getpid()));
  for (int attempt = 0;; ++attempt) {
    std::int32_t v[2] = {0x5a000000 | (std::rand() & 0xffffff), -(std::rand() & 0xffffff) - 1};
    std::string bytes(reinterpret_cast<const char*>(v), sizeof v);
    int fd = ::open(m_->path(".json").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::string doc =
        "{\"bar\": " + std::to_string(v[0]) + ", \"baz\": " + std::to_string(v[1]) + "}\n";
    ASSERT_EQ(::write(fd, doc.data(), doc.size()), static_cast<ssize_t>(doc.size()));
    // Someone's sync(1) may have flushed it already: then this attempt proves nothing.
    if (fs.image_holds(bytes)) {
      ::close(fd);
      ASSERT_LT(attempt, 5) << "the value reached the device before fsync every time";
      continue;
    }
    EXPECT_EQ(::fsync(fd), 0);
    EXPECT_TRUE(fs.image_holds(bytes)) << "fsync returned before the value was on the device";
    ::close(fd);
    break;
  }
}

}  // namespace
}  // namespace fieldfs::test
