// SPDX-License-Identifier: MIT
// One test per row of the README's errno table, each through the real syscalls on a mount;
// every failure leaves the old value in place and the daemon serving. Then the sources a mount
// refuses (SPEC §2): each with one line, before a byte of it is written.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

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

/// Sources a mount must refuse, in a fresh temporary directory.
class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fieldfs-src-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { sh("rm -rf " + quote(dir_)); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    sh("printf '%s' " + quote(text) + " > " + quote(p));
    return p;
  }
  /// fieldfs on `source` fails at once with exactly one "fieldfs: SOURCE: ..." line: returned.
  std::string refusal(const std::string& source, std::vector<std::string> args = {}) {
    auto start = std::chrono::steady_clock::now();
    Mount m(std::move(args), source, true);
    EXPECT_FALSE(m.mounted());
    EXPECT_NE(m.stop(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "no hang";
    std::string text = m.daemon_stderr();
    EXPECT_TRUE(text.starts_with("fieldfs: " + source + ": ")) << text;
    EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
    return text;
  }
  std::string dir_;
};

TEST_F(SourceTest, AFieldFileOfAnotherMountIsRefusedAndKeepsItsValue) {
  std::string small = write("s.h", "struct s { char name[64]; int x; };\n");
  std::string big = write("big.h", "struct big { char pad[65536]; };\n");
  Mount first({"-o", "schema=" + small});
  ASSERT_TRUE(first.mounted()) << first.daemon_stderr();
  ASSERT_EQ(sh("echo hello > " + quote(first.path("name"))).status, 0);
  for (const char* field : {"name", "x"}) {
    auto why = refusal(first.path(field), {"-o", "schema=" + big});
    EXPECT_NE(why.find("on a FUSE filesystem"), std::string::npos) << why;
  }
  EXPECT_EQ(slurp(first.path("name")), "hello\n") << "the other mount's value was written";
  EXPECT_EQ(slurp(first.path("x")), "0\n");
  EXPECT_EQ(first.stop(), 0);
}

TEST_F(SourceTest, FilesOfProcfsAndSysfsAreRefusedByTheirFilesystem) {
  // Neither file has a write handler in the kernel: even a wrong fieldfs could not change them.
  EXPECT_NE(refusal("/proc/version").find("on a procfs filesystem"), std::string::npos);
  EXPECT_NE(refusal("/sys/kernel/uevent_seqnum").find("on a sysfs filesystem"), std::string::npos);
}

TEST_F(SourceTest, AFifoInDevShmIsRefusedWithoutEverBeingOpenedForWriting) {
  std::string name = unique_name("fifo");
  std::string path = "/dev/shm/" + name;
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  EXPECT_NE(refusal(name).find("not a regular file"), std::string::npos);
  // A writer that opened and closed the FIFO since the reader opened leaves POLLHUP on it.
  pollfd p{reader, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "fieldfs opened the FIFO for writing";
  ::close(::open(path.c_str(), O_WRONLY | O_NONBLOCK));
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_TRUE(p.revents & POLLHUP) << "the oracle sees a writer that came and went";
  ::close(reader);
  ::unlink(path.c_str());
}

TEST_F(SourceTest, AFullFilesystemLeavesNoFileBehind) {
  ASSERT_EQ(sh("mkdir " + quote(dir_ + "/small") + " && mount -t tmpfs -o size=64k tmpfs " +
               quote(dir_ + "/small"))
                .status,
            0);
  std::string big = write("big.h", "struct big { char pad[1048576]; };\n");
  std::string seg = dir_ + "/small/seg";
  EXPECT_NE(refusal(seg, {"-o", "schema=" + big}).find("No space left on device"),
            std::string::npos);
  EXPECT_EQ(sh("ls -A " + quote(dir_ + "/small")).out, "") << "nothing is left behind";
  sh("umount " + quote(dir_ + "/small"));
}

TEST_F(SourceTest, ASegmentAnotherUserOwnsIsRefusedUnlessAllowed) {
  std::string name = unique_name("owner");
  std::string file = dir_ + "/state";
  ASSERT_EQ(sh("touch /dev/shm/" + name + " " + quote(file) + " && chown 65534:65534 /dev/shm/" +
               name + " " + quote(file))
                .status,
            0);
  for (const auto& source : {name, file}) {
    auto why = refusal(source);
    EXPECT_NE(why.find("owned by uid 65534, not by the mounting user"), std::string::npos) << why;
    EXPECT_NE(why.find("-o allow_foreign_owner"), std::string::npos) << why;
    Mount m({"-o", "allow_foreign_owner"}, source, true);
    EXPECT_TRUE(m.mounted()) << m.daemon_stderr();
    if (m.mounted()) {
      EXPECT_EQ(slurp(m.path("bar")), "0\n");
    }
    EXPECT_EQ(m.stop(), 0);
  }
  ::unlink(("/dev/shm/" + name).c_str());
}

TEST_F(SourceTest, WithoutProcAnExistingSourceIsExplainedNotCreatedAgain) {
  std::string seg = write("seg", "");
  auto r = sh("unshare -m sh -c " + quote("umount -l /proc && exec " + quote(fieldfs_binary()) +
                                          " " + quote(seg) + " " + quote(dir_)));
  EXPECT_NE(r.status, 0) << r.err;
  // fieldfs's own words are one line; a sanitizer build adds its runtime's complaints about the
  // missing /proc around it (and exits 1 on its own), which are not fieldfs's.
  std::string ours;
  for (std::size_t at = 0; at < r.err.size();) {
    auto end = r.err.find('\n', at);
    std::string line = r.err.substr(at, end - at + 1);
    if (line.starts_with("fieldfs: ")) ours += line;
    at = end == std::string::npos ? r.err.size() : end + 1;
  }
  EXPECT_EQ(ours, "fieldfs: " + seg + ": cannot be reopened through /proc/self/fd (is /proc " +
                      "mounted?)\n");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, ours) << "one line, nothing else";
#endif
}

/// `ENV fieldfs --layout -o OPTIONS`, given a minute.
Outcome layout(const std::string& options, const std::string& env = "") {
  return sh(env + " " + quote(fieldfs_binary()) + " --layout -o " + quote(options), 60);
}

/// The outcome failed at once with exactly one "fieldfs: " line.
void expect_one_line_failure(const Outcome& r) {
  EXPECT_GT(r.status, 0) << "-1: it hung";
  EXPECT_TRUE(r.err.starts_with("fieldfs: ")) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(SourceTest, HostileSchemasFailInOneLineAndNeverHang) {
  std::string fifo = dir_ + "/fifo.h";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& path : {std::string("/dev/zero"), fifo}) {
    auto r = layout("schema=" + path);
    expect_one_line_failure(r);
    EXPECT_EQ(r.err, "fieldfs: " + path + ": not a regular file (a schema is a C header file)\n");
  }
  std::string zero = write("zero.h", "#include \"/dev/zero\"\nstruct a { int x; };\n");
  auto r = layout("schema=" + zero);
  expect_one_line_failure(r);
  EXPECT_TRUE(r.err.starts_with("fieldfs: " + zero + ": ")) << r.err;
}

TEST_F(SourceTest, AnEmptyStructIsRefusedByLayoutAndByTheMount) {
  std::string h = write("empty.h", "struct empty {};\n");
  std::string why = h + ":1:8: struct empty has no fields: there is nothing to share\n";
  auto r = layout("schema=" + h);
  expect_one_line_failure(r);
  EXPECT_EQ(r.err, "fieldfs: " + why);
  std::string name = unique_name("empty");
  Mount m({"-o", "schema=" + h}, name);
  EXPECT_FALSE(m.mounted());
  EXPECT_NE(m.stop(), 0);
  EXPECT_EQ(m.daemon_stderr(), "fieldfs: " + why);
  struct stat st {};
  EXPECT_NE(::stat(("/dev/shm/" + name).c_str(), &st), 0) << "no segment is created";
}

TEST_F(SourceTest, TheLayoutDoesNotDependOnTheCompilersEnvironment) {
  sh("mkdir " + quote(dir_ + "/inc"));
  write("inc/probe.h", "#define EXTRA int b;\n");
  std::string h = write("s.h",
                        "#if __has_include(<probe.h>)\n#include <probe.h>\n#endif\n"
                        "#ifndef EXTRA\n#define EXTRA\n#endif\nstruct s { int a; EXTRA };\n");
  auto plain = layout("schema=" + h);
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out.find("\nb "), std::string::npos) << plain.out;
  for (auto var : {"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH"}) {
    auto r = layout("schema=" + h, std::string(var) + "=" + quote(dir_ + "/inc"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, plain.out) << var;
  }
  auto with = layout("schema=" + h + ",include=" + dir_ + "/inc");
  EXPECT_NE(with.out, plain.out) << "the probe does change the layout when asked for";
}

}  // namespace
}  // namespace fieldfs::test
