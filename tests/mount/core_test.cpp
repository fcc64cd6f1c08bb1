// SPDX-License-Identifier: MIT
// The core contract on a real mount: SPEC §2-§5 for struct foo, driven by shell tools.
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

TEST_F(MountTest, LsShowsTheFieldsInDeclarationOrder) {
  auto r = in_mount("ls");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "bar\nbaz\n");
}

TEST_F(MountTest, CatPrintsTheValueAndANewline) {
  foo()[0] = 42;
  EXPECT_EQ(sh("cat " + at("bar")).out, "42\n");
  EXPECT_EQ(sh("cat " + at("baz")).out, "0\n");
}

TEST_F(MountTest, EchoSetsTheFieldAndAMappingSeesItAtOnce) {
  std::int32_t* s = foo();
  ASSERT_EQ(sh("echo 7 > " + at("bar")).status, 0);
  EXPECT_EQ(s[0], 7);
  ASSERT_EQ(sh("echo -12 > " + at("baz")).status, 0);
  EXPECT_EQ(s[1], -12);
  s[1] = 99;
  EXPECT_EQ(sh("cat " + at("baz")).out, "99\n") << "a store through the mapping shows in cat";
}

TEST_F(MountTest, EchoAppendSetsTheValueLikeSysfs) {
  ASSERT_EQ(sh("echo 1 > " + at("bar") + " && echo 5 >> " + at("bar")).status, 0);
  EXPECT_EQ(foo()[0], 5);
}

TEST_F(MountTest, PrintfWithoutNewlineSetsTheValue) {
  ASSERT_EQ(sh("printf 123 > " + at("bar")).status, 0);
  EXPECT_EQ(foo()[0], 123);
  ASSERT_EQ(sh("printf '%s' 0x10 > " + at("bar")).status, 0);
  EXPECT_EQ(foo()[0], 16);
}

TEST_F(MountTest, DdOneByteAtATimeSetsTheWholeValue) {
  auto r = sh("printf -- '-4096\\n' | dd of=" + at("bar") + " bs=1 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(foo()[0], -4096);
}

TEST_F(MountTest, SplitWritesInOneRedirectEachSetAValue) {
  ASSERT_EQ(sh("{ echo 1; echo 2; } > " + at("bar")).status, 0);
  EXPECT_EQ(foo()[0], 2);
}

TEST_F(MountTest, OTruncAndTruncateToZeroChangeNothing) {
  foo()[0] = 31;
  ASSERT_EQ(sh(": > " + at("bar")).status, 0) << "open(O_TRUNC) with no write";
  EXPECT_EQ(foo()[0], 31);
  ASSERT_EQ(sh("truncate -s 0 " + at("bar")).status, 0);
  EXPECT_EQ(foo()[0], 31);
}

TEST_F(MountTest, EveryReadAtOffsetZeroSeesTheCurrentValue) {
  std::int32_t* s = foo();
  for (int i = 0; i < 50; ++i) {
    s[0] = i * 1000;
    ASSERT_EQ(slurp(m_->path("bar")), std::to_string(i * 1000) + "\n");
  }
}

TEST_F(MountTest, ModesSizesAndOwnerAreSysfsLike) {
  struct stat st {};
  ASSERT_EQ(::stat(m_->path("bar").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0644U);
  EXPECT_EQ(st.st_size, 4096);
  EXPECT_EQ(st.st_uid, ::getuid());
  EXPECT_EQ(st.st_gid, ::getgid());
  ASSERT_EQ(::stat(m_->dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0755U);
}

TEST_F(MountTest, CreatesTheSegmentWithMode0600SizedToTheStruct) {
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + m_->source()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  EXPECT_EQ(st.st_size, 8);
}

TEST_F(MountTest, ALargerMaxReadStillMountsAndReads) {
  start({"-o", "max_read=65536"});
  foo()[0] = 8;
  EXPECT_EQ(sh("cat " + at("bar")).out, "8\n");
}

TEST_F(MountTest, ModeOptionIsAppliedExactlyWhateverTheUmask) {
  mode_t old = ::umask(0077);
  start({"-o", "mode=0664"});
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + m_->source()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0664U);
}

TEST_F(MountTest, ReadOnlyMountShows0444AndRefusesWritesWithErofs) {
  std::string name = unique_name("ro");
  ASSERT_EQ(sh("printf '\\005\\000\\000\\000' > /dev/shm/" + name).status, 0);
  start({"-o", "ro"}, name);
  struct stat st {};
  ASSERT_EQ(::stat(m_->path("bar").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444U);
  auto r = sh("echo 9 > " + at("bar"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_EQ(sh("cat " + at("bar")).out, "5\n");
  EXPECT_EQ(sh("cat " + at("baz")).err.find("Input/output error") != std::string::npos, true)
      << "a read-only mount never grows the segment: baz lies past its end";
}

TEST_F(MountTest, FileSourcePersistsAcrossUnmountsAndKeepsExistingBytes) {
  char tmpl[] = "/tmp/fieldfs-file-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string file = dir + "/suchfoo";
  ASSERT_EQ(sh("printf '\\052\\000' > " + quote(file)).status, 0) << "a short file: bar = 42";
  for (int round = 0; round < 2; ++round) {
    Mount m({}, file);
    ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
    EXPECT_EQ(slurp(m.path("bar")), round == 0 ? "42\n" : "43\n");
    ASSERT_EQ(
        sh("echo 43 > " + quote(m.path("bar")) + " && echo 8 > " + quote(m.path("baz"))).status, 0);
    EXPECT_EQ(m.stop(), 0);
  }
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8);
  EXPECT_EQ(sh("od -An -td4 " + quote(file) + " | tr -s ' '").out, " 43 8\n");
  sh("rm -rf " + quote(dir));
}

TEST_F(MountTest, ALargerSegmentIsNeverShrunk) {
  std::string name = unique_name("big");
  ASSERT_EQ(sh("head -c 100 /dev/zero > /dev/shm/" + name).status, 0);
  start({}, name);
  EXPECT_EQ(sh("echo 3 > " + at("bar")).status, 0);
  EXPECT_EQ(m_->stop(), 0);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 100);
  m_.reset();
}

TEST_F(MountTest, TheSegmentOutlivesTheMount) {
  ASSERT_EQ(sh("echo 77 > " + at("bar")).status, 0);
  std::string name = m_->source();
  EXPECT_EQ(m_->signal_and_wait(SIGTERM), 0);
  struct stat st {};
  EXPECT_EQ(::stat(("/dev/shm/" + name).c_str(), &st), 0) << "fieldfs never unlinks a segment";
  m_.reset();
}

}  // namespace
}  // namespace fieldfs::test
