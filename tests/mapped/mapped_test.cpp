// SPDX-License-Identifier: MIT
// fieldfs::Mapped<T>: opens segments with the daemon's rules (it is Segment::open) and accesses
// members with the daemon's atomicity.
#include "fieldfs/mapped.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace fieldfs {
namespace {

struct foo {
  int bar;
  int baz;
};

struct mixed {
  const char firmware[8];
  const std::uint32_t build;
  char c;
  double d;
  bool flag;
  std::uint16_t u16;
  char name[16];
  std::int64_t big;
};

#pragma pack(push, 1)
struct packed {
  char c;
  std::int32_t unaligned;
};
#pragma pack(pop)

class MappedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-mapped-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
    char dir[] = "/tmp/fieldfs-mapped-XXXXXX";
    dir_ = ::mkdtemp(dir);
  }
  void TearDown() override {
    ::shm_unlink(name_.c_str());
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  struct stat shm_stat() const {
    struct stat st {};
    EXPECT_EQ(::stat(("/dev/shm/" + name_).c_str(), &st), 0);
    return st;
  }
  /// Creates the shm object with `size` bytes, each set to `fill`.
  void make_shm(std::size_t size, unsigned char fill) const {
    int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    std::string bytes(size, static_cast<char>(fill));
    ASSERT_EQ(::write(fd, bytes.data(), size), static_cast<ssize_t>(size));
    ::close(fd);
  }

  std::string name_;
  std::string dir_;
};

TEST_F(MappedTest, CreatesAZeroedSegmentOfTheStructsSize) {
  Mapped<foo> m{name_};
  EXPECT_TRUE(m.created());
  EXPECT_EQ(shm_stat().st_size, static_cast<off_t>(sizeof(foo)));
  EXPECT_EQ(m.load(&foo::bar), 0);
  EXPECT_EQ(m.load(&foo::baz), 0);
}

TEST_F(MappedTest, StoresAreSeenByAnotherMappingAndBack) {
  Mapped<foo> a{name_};
  Mapped<foo> b{"shm:/" + name_};
  EXPECT_FALSE(b.created());
  a.store(&foo::bar, 5);
  EXPECT_EQ(b.load(&foo::bar), 5);
  b.store(&foo::baz, -7);
  EXPECT_EQ(a.load(&foo::baz), -7);
  EXPECT_EQ(a.get()->baz, -7);
  EXPECT_EQ(a->bar, 5);
}

TEST_F(MappedTest, EveryMemberKindRoundTrips) {
  Mapped<mixed> m{name_};
  m.store(&mixed::c, 'x');
  m.store(&mixed::d, 2.5);
  m.store(&mixed::flag, true);
  m.store(&mixed::u16, std::uint16_t{65535});
  m.store(&mixed::name, {'a', 'b', 'c'});
  m.store(&mixed::big, std::int64_t{-1} << 62);
  EXPECT_EQ(m.load(&mixed::c), 'x');
  EXPECT_EQ(m.load(&mixed::d), 2.5);
  EXPECT_TRUE(m.load(&mixed::flag));
  EXPECT_EQ(m.load(&mixed::u16), 65535);
  EXPECT_STREQ(m.load(&mixed::name).data(), "abc");
  EXPECT_EQ(m.load(&mixed::big), std::int64_t{-1} << 62);
}

TEST_F(MappedTest, ConstMembersLoad) {
  make_shm(sizeof(mixed), 0);
  int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "v1.2", 5, offsetof(mixed, firmware)), 5);
  std::uint32_t build = 77;
  ASSERT_EQ(::pwrite(fd, &build, sizeof build, offsetof(mixed, build)), 4);
  ::close(fd);
  Mapped<mixed> m{name_};
  EXPECT_STREQ(m.load(&mixed::firmware).data(), "v1.2");
  EXPECT_EQ(m.load(&mixed::build), 77U);
}

TEST_F(MappedTest, UnalignedMembersAreCopied) {
  Mapped<packed> m{name_};
  m.store(&packed::unaligned, 123456789);
  EXPECT_EQ(m.load(&packed::unaligned), 123456789);
  EXPECT_EQ(m.load(&packed::c), 0) << "the neighbour is untouched";
}

TEST_F(MappedTest, NeverShrinksABiggerSegmentNorChangesItsBytes) {
  make_shm(64, 0xab);
  {
    Mapped<foo> m{name_};
    EXPECT_FALSE(m.created());
    EXPECT_EQ(m.load(&foo::bar), static_cast<int>(0xabababab));
    m.store(&foo::baz, 1);
  }
  EXPECT_EQ(shm_stat().st_size, 64);
  int fd = ::shm_open(name_.c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  unsigned char bytes[64];
  ASSERT_EQ(::read(fd, bytes, sizeof bytes), 64);
  ::close(fd);
  for (std::size_t i = 0; i < sizeof bytes; ++i) {
    if (i >= 4 && i < 8) continue;  // baz
    EXPECT_EQ(bytes[i], 0xab) << "byte " << i;
  }
  EXPECT_EQ(bytes[4], 1);
}

TEST_F(MappedTest, GrowsASmallerSegmentKeepingItsBytes) {
  make_shm(2, 0x11);
  Mapped<foo> m{name_};
  EXPECT_EQ(shm_stat().st_size, static_cast<off_t>(sizeof(foo)));
  EXPECT_EQ(m.load(&foo::bar), 0x1111);
  EXPECT_EQ(m.load(&foo::baz), 0);
}

TEST_F(MappedTest, AppliesTheModeExactlyWhateverTheUmask) {
  mode_t old = ::umask(0077);
  SegmentOptions o;
  o.mode = 0664;
  Mapped<foo> m{name_, o};
  ::umask(old);
  EXPECT_EQ(shm_stat().st_mode & 07777, 0664U);
}

TEST_F(MappedTest, DefaultModeIs0600) {
  mode_t old = ::umask(0);
  Mapped<foo> m{name_};
  ::umask(old);
  EXPECT_EQ(shm_stat().st_mode & 07777, 0600U);
}

TEST_F(MappedTest, NocreateFailsWithENOENT) {
  SegmentOptions o;
  o.create = false;
  auto r = Mapped<foo>::open(name_, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
  try {
    Mapped<foo> m{name_, o};
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  }
}

TEST_F(MappedTest, ReadOnlyRefusesStoresWithEROFS) {
  { Mapped<foo> create{name_}; }
  SegmentOptions o;
  o.read_only = true;
  Mapped<foo> m{name_, o};
  EXPECT_EQ(m.load(&foo::bar), 0);
  try {
    m.store(&foo::bar, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::read_only_file_system);
  }
}

TEST_F(MappedTest, AReadOnlySegmentShorterThanTheStructIsRefusedWithEIO) {
  for (std::size_t size : {std::size_t{0}, std::size_t{4}}) {
    ::shm_unlink(name_.c_str());
    make_shm(size, 0x11);
    SegmentOptions o;
    o.read_only = true;
    auto r = Mapped<foo>::open(name_, o);
    ASSERT_FALSE(r) << size << " bytes opened; its first load would die of SIGBUS";
    EXPECT_EQ(r.error(), std::errc::io_error) << size;
    EXPECT_EQ(shm_stat().st_size, static_cast<off_t>(size)) << "left as it was";
  }
}

/// How a fresh process (this binary, re-executed) ends that installs a SIGBUS handler (`how` 1:
/// plain, 2: SA_SIGINFO, 0: none), then opens a Mapped<foo>, then touches a page of its own
/// mapping past the end of its file: a SIGBUS that is not fieldfs's.
int sigbus_outside_fieldfs(const std::string& name, const std::string& dir, int how) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string env = "FIELDFS_SIGBUS_CHILD=" + std::to_string(how) + ":" + name + ":" + dir;
    // Under ASan its own SIGBUS handler would come first; without ASan the option means nothing.
    std::string asan = "ASAN_OPTIONS=handle_sigbus=0";
    char* envp[] = {env.data(), asan.data(), nullptr};
    ::execle("/proc/self/exe", "mapped_tests", nullptr, envp);
    ::_exit(5);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// The re-executed process of sigbus_outside_fieldfs, before main and GoogleTest.
[[maybe_unused]] const bool kSigbusChild = [] {
  const char* arg = std::getenv("FIELDFS_SIGBUS_CHILD");
  if (arg == nullptr) return false;
  std::string spec = arg;
  auto colon = spec.find(':', 2);
  std::string name = spec.substr(2, colon - 2);
  std::string dir = spec.substr(colon + 1);
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  if (spec[0] == '1') sa.sa_handler = [](int) { ::_exit(41); };
  if (spec[0] == '2') {
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = [](int, siginfo_t* info, void*) {
      ::_exit(info->si_signo == SIGBUS ? 42 : 1);
    };
  }
  if (spec[0] != '0') ::sigaction(SIGBUS, &sa, nullptr);
  Mapped<foo> m{name};
  m.store(&foo::bar, 1);
  int fd = ::open((dir + "/own").c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ::ftruncate(fd, 4096) != 0) ::_exit(2);
  auto* p = static_cast<volatile char*>(::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED || ::ftruncate(fd, 0) != 0) ::_exit(3);
  (void)p[0];
  ::_exit(4);
}();

TEST_F(MappedTest, ASigbusOutsideFieldfsReachesTheApplicationsOwnHandler) {
  EXPECT_EQ(sigbus_outside_fieldfs(name_, dir_, 1), 41) << "a plain handler";
  EXPECT_EQ(sigbus_outside_fieldfs(name_, dir_, 2), 42) << "an SA_SIGINFO handler";
  EXPECT_EQ(sigbus_outside_fieldfs(name_, dir_, 0), 128 + SIGBUS) << "no handler: fatal";
}

TEST_F(MappedTest, FilePathsAreFilesAndSymlinksAreRefused) {
  std::string path = dir_ + "/state";
  {
    Mapped<foo> m{path};
    m.store(&foo::bar, 42);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(sizeof(foo)));
  Mapped<foo> again{"file:" + path};
  EXPECT_EQ(again.load(&foo::bar), 42);
  ASSERT_EQ(::symlink(path.c_str(), (dir_ + "/link").c_str()), 0);
  auto r = Mapped<foo>::open(dir_ + "/link");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::too_many_symbolic_link_levels);
}

TEST_F(MappedTest, BadNamesFailWithEINVAL) {
  auto r = Mapped<foo>::open("shm:a/b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

TEST_F(MappedTest, ConcurrentStoresAreNeverTorn) {
  struct wide {
    std::uint64_t v;
  };
  Mapped<wide> writer{name_};
  Mapped<wide> reader{name_};
  std::atomic<bool> stop{false};
  std::thread t([&] {
    for (std::uint64_t i = 0; !stop.load(); ++i) {
      writer.store(&wide::v, (i & 1) != 0 ? ~std::uint64_t{0} : 0);
    }
  });
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t v = reader.load(&wide::v);
    ASSERT_TRUE(v == 0 || v == ~std::uint64_t{0}) << std::hex << v;
  }
  stop = true;
  t.join();
}

}  // namespace
}  // namespace fieldfs
