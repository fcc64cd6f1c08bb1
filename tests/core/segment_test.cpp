// SPDX-License-Identifier: MIT
#include "fieldfs/segment.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace fieldfs {
namespace {

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-unit-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
    char dir[] = "/tmp/fieldfs-unit-XXXXXX";
    dir_ = ::mkdtemp(dir);
  }
  void TearDown() override {
    ::shm_unlink(name_.c_str());
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  Segment open_shm(SegmentOptions o) {
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    EXPECT_TRUE(s) << "errno " << (s ? 0 : to_errno(s.error()));
    return std::move(*s);
  }
  struct stat shm_stat() {
    struct stat st {};
    EXPECT_EQ(::stat(("/dev/shm/" + name_).c_str(), &st), 0);
    return st;
  }
  static SegmentOptions sized(std::uint32_t n) {
    SegmentOptions o;
    o.size = n;
    return o;
  }

  std::string name_;
  std::string dir_;
};

TEST(SourceTest, NamesShmObjectsAndFilesAsTheSpecSays) {
  for (auto text : {"such_foo", "/such_foo", "shm:such_foo", "shm:/such_foo"}) {
    auto s = parse_source(text);
    ASSERT_TRUE(s) << text;
    EXPECT_EQ(s->kind, Source::Kind::shm) << text;
    EXPECT_EQ(s->name, "such_foo") << text;
  }
  for (auto text : {"/tmp/suchfoo", "./x", "file:/tmp/suchfoo", "file:rel"}) {
    auto s = parse_source(text);
    ASSERT_TRUE(s) << text;
    EXPECT_EQ(s->kind, Source::Kind::file) << text;
  }
  EXPECT_EQ(parse_source("file:rel")->name, "rel");
  EXPECT_EQ(parse_source("shm:a/b").error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_source("").error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_source("..").error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_source(std::string(256, 'n')).error(), std::errc::filename_too_long);
}

TEST_F(SegmentTest, CreatesAMissingSegmentWithExactlyTheModeWhateverTheUmask) {
  mode_t old = ::umask(0077);
  SegmentOptions o = sized(8);
  o.mode = 0664;
  Segment s = open_shm(o);
  ::umask(old);
  EXPECT_TRUE(s.created());
  EXPECT_EQ(shm_stat().st_mode & 07777, 0664U);
  EXPECT_EQ(shm_stat().st_size, 8);
}

TEST_F(SegmentTest, GrowsASmallSegmentKeepingItsBytesAndNeverShrinks) {
  int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "\x2a\x00", 2), 2);
  {
    Segment s = open_shm(sized(8));
    EXPECT_FALSE(s.created());
    EXPECT_EQ(shm_stat().st_size, 8);
    EXPECT_EQ(static_cast<char>(s.data()[0]), 42);
  }
  ASSERT_EQ(::ftruncate(fd, 100), 0);
  { Segment s = open_shm(sized(8)); }
  EXPECT_EQ(shm_stat().st_size, 100) << "a larger segment is left as it is";
  ::close(fd);
}

TEST_F(SegmentTest, NocreateFailsForAMissingSegment) {
  SegmentOptions o = sized(8);
  o.create = false;
  auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), std::errc::no_such_file_or_directory);
}

TEST_F(SegmentTest, StoresAndLoadsThroughTheSharedMapping) {
  Segment s = open_shm(sized(8));
  Leaf baz{Type::i32, 4, 4};
  ASSERT_TRUE(s.store(baz, std::string("\x07\x00\x00\x00", 4)));
  int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
  void* p = ::mmap(nullptr, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  auto* ints = static_cast<std::int32_t*>(p);
  EXPECT_EQ(ints[1], 7) << "another mapping sees the store at once";
  ints[0] = -3;
  EXPECT_EQ(*s.load(Leaf{Type::i32, 0, 4}), std::string("\xfd\xff\xff\xff", 4));
  ::munmap(p, 8);
}

TEST_F(SegmentTest, BitFieldStoresKeepTheirNeighbours) {
  Segment s = open_shm(sized(8));
  std::memset(s.data(), 0xff, 4);
  Leaf b{Type::u32, 0, 4, 4, 3};
  ASSERT_TRUE(s.store(b, std::string("\x20\x00\x00\x00", 4)));  // 2 << 4
  std::uint32_t word = 0;
  std::memcpy(&word, s.data(), 4);
  EXPECT_EQ(word, 0xFFFFFFAFU);
}

TEST_F(SegmentTest, AnUnalignedBitFieldStoreLosesNoConcurrentUpdateOfItsNeighbours) {
  // struct __attribute__((packed)) { uint8_t head; uint32_t lo : 12; uint32_t hi : 20; }: the
  // storage unit is bytes 1-4, inside the first aligned 8-byte word. Another thread counts in
  // hi with compare-and-swap on that word, as a program would; every count must survive.
  Segment s = open_shm(sized(8));
  Leaf lo{Type::u32, 1, 4, 0, 12};
  constexpr std::uint64_t kCounts = 1000000;
  std::atomic_ref<std::uint64_t> word(*reinterpret_cast<std::uint64_t*>(s.data()));
  std::atomic<bool> counting{true};
  std::atomic<std::uint32_t> stores{0};
  std::thread storer([&] {
    for (std::uint32_t i = 0; counting.load(std::memory_order_relaxed) || i < 1000; ++i) {
      stores = i;
      ASSERT_TRUE(
          s.store(lo, std::string(i % 2 == 0 ? "\x34\x02\x00\x00" : "\xcb\x0d\x00\x00", 4)));
    }
  });
  while (stores.load() == 0) std::this_thread::yield();
  for (std::uint64_t i = 0; i < kCounts; ++i) word.fetch_add(std::uint64_t{1} << 20);
  counting = false;
  storer.join();
  EXPECT_EQ((word.load() >> 20) & 0xfffff, kCounts) << "counts lost to the bit-field's stores";
  std::uint64_t low = (word.load() >> 8) & 0xfff;
  EXPECT_TRUE(low == 0x234 || low == 0xdcb) << low;
}

TEST_F(SegmentTest, AccessPastAShrunkEndFailsWithEioAndRecovers) {
  Segment s = open_shm(sized(8192));
  Leaf last{Type::i32, 8000, 4};
  Leaf first{Type::i32, 0, 4};
  int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
  ASSERT_EQ(::ftruncate(fd, 4), 0);
  EXPECT_EQ(s.load(last).error(), std::errc::io_error);
  EXPECT_EQ(s.store(last, std::string(4, '\1')).error(), std::errc::io_error);
  EXPECT_TRUE(s.load(first));
  ASSERT_EQ(::ftruncate(fd, 8192), 0);
  EXPECT_TRUE(s.load(last));
  ::close(fd);
}

TEST_F(SegmentTest, AShrinkDuringAccessIsCaughtNotFatal) {
  Segment s = open_shm(sized(1 << 20));
  int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
  std::atomic<bool> stop{false};
  std::thread shrinker([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      (void)::ftruncate(fd, (i % 2) != 0 ? 0 : 1 << 20);
    }
  });
  int failures = 0;
  for (int i = 0; i < 20000; ++i) {
    Leaf f{Type::i64, static_cast<std::uint32_t>((i * 4096) % (1 << 20)), 8};
    failures += s.load(f) ? 0 : 1;
  }
  stop = true;
  shrinker.join();
  ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
  ::close(fd);
  EXPECT_TRUE(s.load(Leaf{Type::i64, (1 << 20) - 8, 8})) << "served again once the size is back";
  RecordProperty("eio_during_shrinks", failures);
}

TEST_F(SegmentTest, FileSourcesPersistAndRefuseLinksAndNonRegularFiles) {
  std::string path = dir_ + "/state";
  {
    auto s = Segment::open(Source{Source::Kind::file, path}, sized(8));
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->store(Leaf{Type::i32, 0, 4}, std::string("\x05\x00\x00\x00", 4)));
    ASSERT_TRUE(s->sync());
  }
  {
    auto s = Segment::open(Source{Source::Kind::file, path}, sized(8));
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->created());
    EXPECT_EQ(*s->load(Leaf{Type::i32, 0, 4}), std::string("\x05\x00\x00\x00", 4));
  }
  ASSERT_EQ(::symlink(path.c_str(), (dir_ + "/link").c_str()), 0);
  EXPECT_EQ(Segment::open(Source{Source::Kind::file, dir_ + "/link"}, sized(8)).error(),
            std::errc::too_many_symbolic_link_levels);
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(Segment::open(Source{Source::Kind::file, dir_ + "/fifo"}, sized(8)).error(),
            std::errc::no_such_device);
  EXPECT_EQ(Segment::open(Source{Source::Kind::file, dir_}, sized(8)).error(),
            std::errc::is_a_directory);
  EXPECT_EQ(Segment::open(Source{Source::Kind::file, "/dev/null"}, sized(8)).error(),
            std::errc::no_such_device);
}

/// Whether a writer has opened (and closed) the FIFO since `reader` was opened: the kernel then
/// reports POLLHUP on the reader (pipe_poll: no writers now, but the writer count moved).
bool fifo_had_a_writer(int reader) {
  pollfd p{reader, POLLIN, 0};
  EXPECT_GE(::poll(&p, 1, 0), 0);
  return (p.revents & POLLHUP) != 0;
}

TEST_F(SegmentTest, AFifoIsRefusedWithoutEverBeingOpenedForWriting) {
  std::string shm_fifo = "/dev/shm/" + name_;
  std::string file_fifo = dir_ + "/fifo";
  for (const auto& [source, path] : {std::pair{Source{Source::Kind::shm, name_}, shm_fifo},
                                     std::pair{Source{Source::Kind::file, file_fifo}, file_fifo}}) {
    SCOPED_TRACE(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    EXPECT_EQ(Segment::open(source, sized(8)).error(), std::errc::no_such_device);
    EXPECT_FALSE(fifo_had_a_writer(reader)) << "fieldfs opened the FIFO for writing";
    ::close(::open(path.c_str(), O_WRONLY | O_NONBLOCK));
    EXPECT_TRUE(fifo_had_a_writer(reader)) << "the oracle sees a writer that came and went";
    ::close(reader);
    ::unlink(path.c_str());
  }
}

TEST_F(SegmentTest, FilesOfProcfsAndSysfsAreRefusedByTheirFilesystem) {
  // Neither file has a write handler in the kernel: even a wrong fieldfs could not change them.
  for (const char* path : {"/proc/version", "/sys/kernel/uevent_seqnum"}) {
    EXPECT_EQ(Segment::open(Source{Source::Kind::file, path}, sized(1 << 16)).error(),
              std::errc::operation_not_supported)
        << path;
  }
  EXPECT_EQ(unsuitable_filesystem("/proc/version"), "procfs");
  EXPECT_EQ(unsuitable_filesystem("/sys/kernel/uevent_seqnum"), "sysfs");
  EXPECT_EQ(unsuitable_filesystem("/dev/shm"), "");
  EXPECT_EQ(unsuitable_filesystem(dir_), "");
}

TEST_F(SegmentTest, ASegmentThatCannotBeAllocatedIsRemovedAgain) {
  std::string small = dir_ + "/small";
  ASSERT_EQ(::mkdir(small.c_str(), 0700), 0);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k"), 0) << "needs root";
  std::string path = small + "/seg";
  EXPECT_EQ(Segment::open(Source{Source::Kind::file, path}, sized(1 << 20)).error(),
            std::errc::no_space_on_device);
  struct stat st {};
  EXPECT_NE(::lstat(path.c_str(), &st), 0) << "a 0-byte file was left behind";
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::umount(small.c_str()), 0);
}

TEST_F(SegmentTest, ASegmentAnotherUserOwnsIsRefusedWhenOwnerOnly) {
  std::string file = dir_ + "/state";
  int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchown(fd, 65534, 65534), 0) << "needs root";
  ::close(fd);
  ASSERT_EQ(::close(::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600)), 0);
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  for (const auto& source : {Source{Source::Kind::shm, name_}, Source{Source::Kind::file, file}}) {
    SCOPED_TRACE(source.name);
    SegmentOptions o = sized(8);
    o.owner_only = true;
    EXPECT_EQ(Segment::open(source, o).error(), std::errc::operation_not_permitted);
    struct stat st {};
    ASSERT_EQ(::stat(source_path(source).c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 0) << "refused before a byte was written";
    EXPECT_TRUE(Segment::open(source, sized(8))) << "shared with another user deliberately";
  }
}

TEST_F(SegmentTest, AnEmptyStructOrAModeWithSpecialBitsIsInvalid) {
  EXPECT_EQ(Segment::open(Source{Source::Kind::shm, name_}, sized(0)).error(),
            std::errc::invalid_argument);
  SegmentOptions o = sized(8);
  o.mode = 04755;
  EXPECT_EQ(Segment::open(Source{Source::Kind::shm, name_}, o).error(),
            std::errc::invalid_argument);
  struct stat st {};
  EXPECT_NE(::stat(("/dev/shm/" + name_).c_str(), &st), 0) << "nothing was created";
}

TEST_F(SegmentTest, ReadOnlySegmentsRefuseStores) {
  { Segment s = open_shm(sized(8)); }
  SegmentOptions o = sized(8);
  o.read_only = true;
  Segment s = open_shm(o);
  EXPECT_EQ(s.store(Leaf{Type::i32, 0, 4}, std::string(4, '\0')).error(),
            std::errc::read_only_file_system);
  EXPECT_TRUE(s.load(Leaf{Type::i32, 0, 4}));
}

}  // namespace
}  // namespace fieldfs
