// SPDX-License-Identifier: MIT
// Permissions with a real unprivileged user, created by the test: a user mounts their own
// segment through fusermount3; without allow_other nobody else (not even root) may enter; with
// allow_other the kernel enforces the modes (default_permissions); with uid=, gid= and umask= a
// group shares the state: its owner and a member write, an outsider reads.
#include <grp.h>
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

/// Three real users and a group: the owner, a member of the group and an outsider, all removed
/// again (group too) even when the test fails. Root mounts, so /dev/fuse's mode does not matter.
class OwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string stem = "ffs-o" + std::to_string(::getpid() % 100000);
    group_ = stem + "-g";
    ASSERT_EQ(sh("groupadd --system " + group_).status, 0);
    gid_ = ::getgrnam(group_.c_str())->gr_gid;
    for (const char* who : {"owner", "member", "outsider"}) {
      std::string name = stem + "-" + who;
      ASSERT_EQ(sh("useradd --system --no-create-home --shell /usr/sbin/nologin " + name).status,
                0);
      users_.push_back(name);
    }
    ASSERT_EQ(sh("usermod -a -G " + group_ + " " + users_[1]).status, 0);
    uid_ = ::getpwnam(users_[0].c_str())->pw_uid;
  }
  void TearDown() override {
    for (const auto& name : users_) sh("userdel " + name);
    sh("groupdel " + group_);
  }
  /// Runs a command as user `who` (0 owner, 1 member, 2 outsider) with their groups.
  Outcome as(int who, const std::string& command) {
    const std::string& name = users_[static_cast<std::size_t>(who)];
    return sh("setpriv --reuid=" + name +
              " --regid=" + std::to_string(getpwnam(name.c_str())->pw_gid) +
              " --init-groups --reset-env sh -c " + quote(command));
  }
  std::string group_;
  gid_t gid_ = 0;
  uid_t uid_ = 0;
  std::vector<std::string> users_;
};

TEST_F(OwnershipTest, TheOwnerAndTheGroupWriteOthersOnlyRead) {
  char hdr[] = "/tmp/fieldfs-own-h-XXXXXX";
  std::string hdir = ::mkdtemp(hdr);
  sh("printf 'struct in { int x; };\\nstruct s { int open; const int fixed; struct in in; };\\n' "
     "> " +
     quote(hdir + "/s.h"));
  Mount m({"-o", "allow_other,uid=" + std::to_string(uid_) + ",gid=" + std::to_string(gid_) +
                     ",umask=002,schema=" + hdir + "/s.h"});
  sh("rm -rf " + quote(hdir));
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  // SPEC §1: writable fields 0666 & ~umask, const fields 0444 & ~umask, directories 0777 & ~umask.
  std::string ids = " " + std::to_string(uid_) + " " + std::to_string(gid_) + " ";
  auto ls = sh("ls -ln " + quote(m.dir()) + " | awk 'NR > 1 { print $1, $3, $4, $NF }'");
  EXPECT_EQ(ls.out,
            "-r--r--r--" + ids + "fixed\ndrwxrwxr-x" + ids + "in\n-rw-rw-r--" + ids + "open\n")
      << ls.err;
  auto stat = sh("cd " + quote(m.dir()) + " && stat -c '%a %u %g %n' . in/x .raw .json .schema");
  EXPECT_EQ(stat.out, "775" + ids + ".\n664" + ids + "in/x\n664" + ids + ".raw\n664" + ids +
                          ".json\n444" + ids + ".schema\n")
      << stat.err;

  auto owner = as(0, "echo 5 > " + m.path("open") + " && cat " + m.path("open"));
  EXPECT_EQ(owner.out, "5\n") << "the owner writes: " << owner.err;
  auto member = as(1, "echo 6 > " + m.path("open") + " && cat " + m.path("open"));
  EXPECT_EQ(member.out, "6\n") << "a member of the group writes: " << member.err;
  auto outsider = as(2, "cat " + m.path("open") + " && echo 7 > " + m.path("open"));
  EXPECT_EQ(outsider.out, "6\n") << "an outsider reads: " << outsider.err;
  EXPECT_NE(outsider.status, 0);
  EXPECT_NE(outsider.err.find("Permission denied"), std::string::npos) << outsider.err;
  EXPECT_EQ(slurp(m.path("open")), "6\n") << "the outsider's write changed nothing";
  for (int who = 0; who < 3; ++who) {
    auto write = as(who, "echo 1 > " + m.path("fixed"));
    EXPECT_NE(write.err.find("Permission denied"), std::string::npos) << who << ": " << write.err;
  }
  EXPECT_EQ(slurp(m.path("fixed")), "0\n");
  EXPECT_EQ(m.stop(), 0) << m.daemon_stderr();
}

}  // namespace
}  // namespace fieldfs::test
