// SPDX-License-Identifier: MIT
// One test per row of the README's errno table, each through the real syscalls on a mount;
// every failure leaves the old value in place and the daemon serving.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

class ErrnoTest : public MountTest {
 protected:
  void SetUp() override {
    MountTest::SetUp();
    foo()[0] = 17;
  }
  void TearDown() override {
    EXPECT_EQ(foo()[0], 17) << "a failure must keep the old value";
    EXPECT_EQ(slurp(m_->path("bar")), "17\n") << "and the daemon keeps serving";
    MountTest::TearDown();
  }
  /// errno of one write(2) of `text` to bar in a fresh open file (0 if it succeeded).
  int write_errno(const std::string& text) {
    int fd = ::open(m_->path("bar").c_str(), O_WRONLY);
    EXPECT_GE(fd, 0);
    errno = 0;
    ssize_t n = ::write(fd, text.data(), text.size());
    int e = n < 0 ? errno : 0;
    ::close(fd);
    return e;
  }
  int errno_of(int rc) { return rc < 0 ? errno : 0; }
};

TEST_F(ErrnoTest, TextThatIsNotANumberIsEinval) {
  EXPECT_EQ(write_errno("abc\n"), EINVAL);
  EXPECT_EQ(write_errno("12abc\n"), EINVAL);
  EXPECT_EQ(write_errno("\n"), EINVAL) << "echo \"\" > bar";
  auto r = sh("bash -c " + quote("echo abc > " + m_->path("bar")));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Invalid argument"), std::string::npos) << r.err;
}

TEST_F(ErrnoTest, NumbersOutsideTheTypeAreErange) {
  EXPECT_EQ(write_errno("2147483648\n"), ERANGE);
  EXPECT_EQ(write_errno("-2147483649\n"), ERANGE);
  EXPECT_EQ(write_errno("0x1ffffffff\n"), ERANGE);
}

TEST_F(ErrnoTest, MoreThan4096BytesOfTextIsEfbig) {
  EXPECT_EQ(write_errno(std::string(4097, ' ')), EFBIG);
}

TEST_F(ErrnoTest, CloseWithAnIncompleteValueIsEinvalAndStoresNothing) {
  int fd = ::open(m_->path("bar").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "-", 1), 1) << "a '-' alone can still become a value";
  EXPECT_EQ(errno_of(::close(fd)), EINVAL);
}

TEST_F(ErrnoTest, TruncateToANonZeroSizeIsEinval) {
  EXPECT_EQ(errno_of(::truncate(m_->path("bar").c_str(), 3)), EINVAL);
}

TEST_F(ErrnoTest, CreatingRemovingRenamingLinkingIsEperm) {
  EXPECT_EQ(errno_of(::open(m_->path("new").c_str(), O_WRONLY | O_CREAT, 0644)), EPERM);
  EXPECT_EQ(errno_of(::mkdir(m_->path("d").c_str(), 0755)), EPERM);
  EXPECT_EQ(errno_of(::mkfifo(m_->path("f").c_str(), 0644)), EPERM);
  EXPECT_EQ(errno_of(::unlink(m_->path("bar").c_str())), EPERM);
  EXPECT_EQ(errno_of(::rename(m_->path("bar").c_str(), m_->path("x").c_str())), EPERM);
  EXPECT_EQ(errno_of(::link(m_->path("bar").c_str(), m_->path("x").c_str())), EPERM);
  EXPECT_EQ(errno_of(::symlink("bar", m_->path("x").c_str())), EPERM);
  auto r = sh("ls -a " + quote(m_->dir()));
  EXPECT_EQ(r.out, ".\n..\n.json\n.raw\n.schema\nbar\nbaz\n") << "nothing was created";
}

TEST_F(ErrnoTest, ChmodAndChownAreEperm) {
  EXPECT_EQ(errno_of(::chmod(m_->path("bar").c_str(), 0600)), EPERM);
  EXPECT_EQ(errno_of(::chown(m_->path("bar").c_str(), 1, 1)), EPERM);
  struct stat st {};
  ASSERT_EQ(::stat(m_->path("bar").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644U);
}

TEST_F(ErrnoTest, ExtendedAttributesAreEnotsup) {
  std::string path = m_->path("bar");
  char buf[64];
  EXPECT_EQ(errno_of(::setxattr(path.c_str(), "user.x", "1", 1, 0)), ENOTSUP);
  EXPECT_EQ(errno_of(static_cast<int>(::getxattr(path.c_str(), "user.x", buf, sizeof buf))),
            ENOTSUP);
  EXPECT_EQ(errno_of(::removexattr(path.c_str(), "user.x")), ENOTSUP);
}

TEST_F(ErrnoTest, AFieldPastAShrunkSegmentIsEioUntilTheSizeIsBack) {
  std::string seg = "/dev/shm/" + m_->source();
  ASSERT_EQ(::truncate(seg.c_str(), 4), 0);
  EXPECT_EQ(slurp(m_->path("baz")), "<errno " + std::to_string(EIO) + ">");
  int fd = ::open(m_->path("baz").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(errno_of(static_cast<int>(::write(fd, "1\n", 2))), EIO);
  ::close(fd);
  EXPECT_EQ(slurp(m_->path("bar")), "17\n") << "fields inside the new end still work";
  ASSERT_EQ(::truncate(seg.c_str(), 8), 0);
  EXPECT_EQ(slurp(m_->path("baz")), "0\n");
}

TEST_F(ErrnoTest, MissingNamesAreEnoentAndDirectoriesEisdir) {
  EXPECT_EQ(slurp(m_->path("nope")), "<errno " + std::to_string(ENOENT) + ">");
  EXPECT_EQ(errno_of(::open(m_->dir().c_str(), O_WRONLY)), EISDIR);
}

}  // namespace
}  // namespace fieldfs::test
