// SPDX-License-Identifier: MIT
// Permissions with a real unprivileged user, created by the test: a user mounts their own
// segment through fusermount3; without allow_other nobody else (not even root) may enter; with
// allow_other the kernel enforces the modes (default_permissions).
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

class PermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    user_ = "fieldfs-t" + std::to_string(::getpid() % 100000);
    ASSERT_EQ(sh("useradd --system --no-create-home --shell /usr/sbin/nologin " + user_).status, 0);
    passwd* pw = ::getpwnam(user_.c_str());
    ASSERT_NE(pw, nullptr);
    uid_ = pw->pw_uid;
    char tmpl[] = "/tmp/fieldfs-perm-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    mnt_ = dir_ + "/mnt";
    ASSERT_EQ(sh("mkdir " + quote(mnt_) + " && chown " + user_ + " " + quote(mnt_)).status, 0);
    // The build tree may sit under a directory the user cannot enter (/root is 0700): the user
    // runs a copy, with fieldfs-header beside it, where fieldfs looks for it.
    std::string built = fieldfs_binary();
    std::string build_dir = built.substr(0, built.rfind('/'));
    binary_ = dir_ + "/bin/fieldfs";
    ASSERT_EQ(sh("mkdir -m 755 " + quote(dir_ + "/bin") + " && cp " + quote(built) + " " +
                 quote(build_dir + "/fieldfs-header") + " " + quote(dir_ + "/bin/"))
                  .status,
              0);
    seg_ = unique_name("perm");
    // Debian's fuse3 makes /dev/fuse 0666 (udev); some containers leave it 0600, and then
    // libfuse cannot open it for a user. Give it the usual mode for the test, then restore it.
    struct stat dev {};
    ASSERT_EQ(::stat("/dev/fuse", &dev), 0);
    fuse_mode_ = dev.st_mode & 07777;
    ASSERT_EQ(::chmod("/dev/fuse", 0666), 0);
  }
  void TearDown() override {
    as_user("fusermount3 -u " + quote(mnt_));
    if (is_mounted(mnt_)) sh("fusermount3 -uz " + quote(mnt_));
    sh("rm -rf " + quote(dir_) + " /dev/shm/" + seg_);
    sh("userdel " + user_);
    ::chmod("/dev/fuse", fuse_mode_);
  }
  /// Runs a command as the test's unprivileged user.
  Outcome as_user(const std::string& command) {
    return sh("setpriv --reuid=" + user_ + " --regid=" + std::to_string(uid_) +
              " --clear-groups --reset-env sh -c " + quote(command));
  }
  std::string user_;
  std::string binary_;  ///< fieldfs, where the user can run it
  mode_t fuse_mode_ = 0666;
  uid_t uid_ = 0;
  std::string dir_;
  std::string mnt_;
  std::string seg_;
};

TEST_F(PermissionsTest, AUserMountsTheirOwnSegmentAndRootCannotEnterWithoutAllowOther) {
  auto mount = as_user(quote(binary_) + " " + seg_ + " " + quote(mnt_));
  ASSERT_EQ(mount.status, 0) << mount.err;
  ASSERT_TRUE(is_mounted(mnt_));
  auto use = as_user("echo 12 > " + mnt_ + "/bar && cat " + mnt_ + "/bar");
  EXPECT_EQ(use.out, "12\n") << use.err;
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + seg_).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_) << "the user's own segment";
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  auto root = sh("cat " + quote(mnt_ + "/bar"));
  EXPECT_NE(root.status, 0) << "root may not read another user's mount without allow_other";
  EXPECT_NE(root.err.find("Permission denied"), std::string::npos) << root.err;
  EXPECT_EQ(as_user("fusermount3 -u " + quote(mnt_)).status, 0);
}

TEST_F(PermissionsTest, WithAllowOtherTheKernelEnforcesTheModes) {
  char hdr[] = "/tmp/fieldfs-perm-h-XXXXXX";
  std::string hdir = ::mkdtemp(hdr);
  ::chmod(hdir.c_str(), 0755);
  sh("printf 'struct s { int open; const int fixed; };\\n' > " + quote(hdir + "/s.h"));
  Mount m({"-o", "allow_other,mode=0644,schema=" + hdir + "/s.h"});
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  sh("chmod 755 " + quote(m.dir()));
  ASSERT_EQ(sh("echo 5 > " + quote(m.path("open"))).status, 0);
  auto read = as_user("cat " + m.path("open"));
  EXPECT_EQ(read.out, "5\n") << "0644: others may read" << read.err;
  auto write = as_user("echo 6 > " + m.path("open"));
  EXPECT_NE(write.status, 0);
  EXPECT_NE(write.err.find("Permission denied"), std::string::npos) << write.err;
  auto root_const = sh("echo 1 > " + quote(m.path("fixed")));
  EXPECT_NE(root_const.err.find("Permission denied"), std::string::npos)
      << "const stays read-only for root: " << root_const.err;
  EXPECT_EQ(slurp(m.path("open")), "5\n");
  EXPECT_EQ(m.stop(), 0);
  sh("rm -rf " + quote(hdir));
}

}  // namespace
}  // namespace fieldfs::test
