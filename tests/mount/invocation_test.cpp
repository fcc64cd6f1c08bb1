// SPDX-License-Identifier: MIT
// How an invocation mounts, fails and unmounts (SPEC §1): a mountpoint that is already mounted,
// live or stale, is refused; a failed invocation creates nothing and says why in one line; the
// unmount at exit reaches this mount and no other.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace fieldfs::test {
namespace {

using namespace std::chrono_literals;

/// How many mounts /proc/self/mountinfo lists at `dir` (stacked mounts count each).
int mounts_at(const std::string& dir) {
  std::ifstream info("/proc/self/mountinfo");
  int count = 0;
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, where;
    fields >> id >> parent >> dev >> root >> where;
    if (where == dir) ++count;
  }
  return count;
}

/// Unmounts every mount stacked at `dir` (a test's cleanup, whatever the code did).
void unmount_all(const std::string& dir) {
  for (int i = 0; i < 8 && mounts_at(dir) > 0; ++i) sh("fusermount3 -uz " + quote(dir));
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

class InvocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fieldfs-inv-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    seg_ = unique_name("inv");
  }
  void TearDown() override {
    for (const auto& m : cleanup_) unmount_all(m);
    unmount_all(dir_);
    unmount_all(dir_ + "/mnt");
    sh("rm -rf " + quote(dir_) + " /dev/shm/" + seg_);
  }
  /// Runs fieldfs with `args` (shell words) and checks it failed with one "fieldfs: " line and
  /// left no segment named seg_.
  std::string failure_of(const std::string& args) {
    auto r = sh(quote(fieldfs_binary()) + " " + args, 20);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_TRUE(r.err.starts_with("fieldfs: ")) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_FALSE(exists("/dev/shm/" + seg_)) << "a failed invocation created " << seg_;
    return r.err;
  }
  std::string dir_;
  std::string seg_;
  std::vector<std::string> cleanup_;
};

TEST_F(InvocationTest, AStaleMountIsRefusedEvenWhenItsAttributesAreCached) {
  Mount m;
  ASSERT_TRUE(m.mounted());
  cleanup_.push_back(m.dir());
  ASSERT_EQ(sh("ls -ld " + quote(m.dir()) + " && test -d " + quote(m.dir())).status, 0);
  ::kill(m.pid(), SIGKILL);
  std::this_thread::sleep_for(100ms);
  auto err = failure_of(seg_ + " " + quote(m.dir()));
  EXPECT_EQ(err, "fieldfs: " + m.dir() +
                     ": Transport endpoint is not connected (a stale mount, left by a daemon that "
                     "died; clear it with: fusermount3 -uz " +
                     m.dir() + ")\n");
  EXPECT_EQ(mounts_at(m.dir()), 1) << "nothing was mounted on top of the dead mount";
}

TEST_F(InvocationTest, ALiveMountIsRefusedAndNamed) {
  Mount m;
  ASSERT_TRUE(m.mounted());
  cleanup_.push_back(m.dir());
  auto err = failure_of(seg_ + " " + quote(m.dir()));
  EXPECT_EQ(err, "fieldfs: " + m.dir() + ": already a mount point (fuse.fieldfs " + m.source() +
                     "); unmount it first: fusermount3 -u " + m.dir() + "\n");
  EXPECT_EQ(mounts_at(m.dir()), 1) << "nothing was stacked on the live mount";
  EXPECT_EQ(sh("echo 4 > " + quote(m.path("bar"))).status, 0) << "and it still serves";
  std::string tmpfs = dir_ + "/mnt";
  ASSERT_EQ(sh("mkdir " + quote(tmpfs) + " && mount -t tmpfs inv-tmpfs " + quote(tmpfs)).status, 0);
  EXPECT_EQ(failure_of(seg_ + " " + quote(tmpfs + "/")),
            "fieldfs: " + tmpfs +
                ": already a mount point (tmpfs inv-tmpfs); unmount it first: umount " + tmpfs +
                "\n")
      << "the path is resolved: a trailing '/' names the same directory";
  sh("umount " + quote(tmpfs));
  EXPECT_EQ(m.stop(), 0);
}

TEST_F(InvocationTest, OptionsThatLibfuseRefusesCreateNothingAndSayWhyOnce) {
  std::string mnt = quote(dir_);
  EXPECT_EQ(failure_of("-o no_such_option " + seg_ + " " + mnt),
            "fieldfs: fuse: unknown option(s): `-o no_such_option'\n");
  EXPECT_EQ(failure_of("-o fsname " + seg_ + " " + mnt),
            "fieldfs: fuse: unknown option(s): `-o fsname'\n");
  // libfuse passes blksize= on; the kernel refuses it, after the segment was created
  EXPECT_EQ(failure_of("-o blksize=abc " + seg_ + " " + mnt),
            "fieldfs: fuse: mount failed: Invalid argument\n");
  EXPECT_FALSE(is_mounted(dir_));
}

TEST_F(InvocationTest, AnEmptyStructCreatesNoSegment) {
  sh("printf 'struct empty {};\\n' > " + quote(dir_ + "/e.h"));
  std::string mnt = dir_ + "/mnt";
  sh("mkdir " + quote(mnt));
  failure_of("-o schema=" + quote(dir_ + "/e.h") + " " + seg_ + " " + quote(mnt));
  EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(InvocationTest, SingleThreadedAndThreadsConflict) {
  auto err = failure_of("-s -o threads=4 " + seg_ + " " + quote(dir_));
  EXPECT_NE(err.find("-s"), std::string::npos) << err;
  EXPECT_NE(err.find("threads=4"), std::string::npos) << err;
}

TEST_F(InvocationTest, ControlCharactersInQuotedPathsAreEscaped) {
  std::string odd = dir_ + "/a\nb\tc";
  EXPECT_EQ(failure_of(seg_ + " " + quote(odd)),
            "fieldfs: " + dir_ + "/a\\nb\\tc: No such file or directory\n");
  auto source = failure_of(quote("file:" + odd + "/x") + " " + quote(dir_));
  EXPECT_NE(source.find("a\\nb\\tc/x: No such file or directory"), std::string::npos) << source;
  auto schema = failure_of("-o " + quote("schema=" + odd + ".h") + " " + seg_ + " " + quote(dir_));
  EXPECT_NE(schema.find("a\\nb\\tc.h"), std::string::npos) << schema;
}

TEST_F(InvocationTest, ACommaInAnOptionValueIsWrittenBackslashComma) {
  std::string header = dir_ + "/a,b.h";
  sh("printf 'struct s { int comma; };\\n' > " + quote(header));
  std::string mnt = dir_ + "/mnt";
  sh("mkdir " + quote(mnt));
  std::string escaped = dir_ + "/a\\,b.h";
  auto r = sh(quote(fieldfs_binary()) + " -o " + quote("schema=" + escaped + ",fsname=x\\,y") +
                  " " + seg_ + " " + quote(mnt),
              20);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sh("ls " + quote(mnt)).out, "comma\n");
  EXPECT_EQ(sh("findmnt -no SOURCE " + quote(mnt)).out, "x,y\n") << "fsname=x\\,y is x,y";
  EXPECT_EQ(sh("fusermount3 -u " + quote(mnt)).status, 0);
}

TEST_F(InvocationTest, AllowOtherThatFusermountRefusesCreatesNoSegment) {
  // A real unprivileged user, as in PermissionsTest; /etc/fuse.conf lacks user_allow_other.
  ASSERT_EQ(sh("grep -qx user_allow_other /etc/fuse.conf").status, 1) << "the test needs it off";
  std::string user = "fieldfs-i" + std::to_string(::getpid() % 100000);
  ASSERT_EQ(sh("useradd --system --no-create-home --shell /usr/sbin/nologin " + user).status, 0);
  struct stat dev {};
  ASSERT_EQ(::stat("/dev/fuse", &dev), 0);
  ASSERT_EQ(::chmod("/dev/fuse", 0666), 0);
  // The checkout may sit under a 0700 /root: the user runs copies from the test's directory.
  ::chmod(dir_.c_str(), 0755);
  std::string bin = dir_ + "/fieldfs";
  std::string helper = std::string(fieldfs_binary());
  helper = helper.substr(0, helper.rfind('/')) + "/fieldfs-header";
  ASSERT_EQ(
      sh("cp " + quote(fieldfs_binary()) + " " + quote(helper) + " " + quote(dir_) + " && mkdir " +
         quote(dir_ + "/mnt") + " && chown " + user + " " + quote(dir_ + "/mnt"))
          .status,
      0);
  auto r = sh("setpriv --reuid=" + user + " --regid=" + user + " --clear-groups --reset-env " +
              quote(bin) + " -o allow_other " + seg_ + " " + quote(dir_ + "/mnt"));
  ::chmod("/dev/fuse", dev.st_mode & 07777);
  sh("userdel " + user);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "fieldfs: fusermount3: option allow_other only allowed if 'user_allow_other' is set in "
            "/etc/fuse.conf\n");
  EXPECT_FALSE(exists("/dev/shm/" + seg_)) << "the user's segment was removed again";
}

/// The daemon started in `cwd` in the background (no -f, so it detaches and changes directory
/// to /), reaped by a subreaper so that its exit status is seen. send() signals it; status()
/// waits for its exit status.
class Detached {
 public:
  Detached(const std::string& cwd, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    reaper_ = ::fork();
    if (reaper_ == 0) {
      ::close(fds[0]);
      ::prctl(PR_SET_CHILD_SUBREAPER, 1);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int launched = run(cwd, args);
      pid_t daemon = 0;
      if (launched == 0) daemon = child_of_self();
      int report[2] = {launched, static_cast<int>(daemon)};
      (void)!::write(fds[1], report, sizeof report);
      int raw = 0;
      int status = -1;
      if (daemon > 0 && ::waitpid(daemon, &raw, 0) == daemon && WIFEXITED(raw)) {
        status = WEXITSTATUS(raw);
      }
      (void)!::write(fds[1], &status, sizeof status);
      ::_exit(0);
    }
    ::close(fds[1]);
    from_reaper_ = fds[0];
    int report[2] = {-1, 0};
    if (::read(from_reaper_, report, sizeof report) == sizeof report) {
      launched_ = report[0];
      daemon_ = report[1];
    }
  }
  ~Detached() {
    if (daemon_ > 0 && status_ == -3) ::kill(daemon_, SIGKILL);
    status();
    ::close(from_reaper_);
    ::waitpid(reaper_, nullptr, 0);
  }
  Detached(const Detached&) = delete;
  Detached& operator=(const Detached&) = delete;

  /// The launching command's exit status (0: mounted and detached).
  int launched() const { return launched_; }
  void send(int sig) const { ::kill(daemon_, sig); }
  /// The daemon's exit status (-1 if it was killed).
  int status() {
    if (status_ == -3 && ::read(from_reaper_, &status_, sizeof status_) != sizeof status_) {
      status_ = -1;
    }
    return status_;
  }

 private:
  static int run(const std::string& cwd, const std::vector<std::string>& args) {
    std::string command = "cd " + quote(cwd) + " && exec " + quote(fieldfs_binary());
    for (const auto& a : args) command += " " + quote(a);
    return sh(command).status;
  }
  /// The one child this process has left: the daemon, reparented to it.
  static pid_t child_of_self() {
    std::string self = std::to_string(::getpid());
    for (int i = 0; i < 500; ++i) {
      std::string children = slurp("/proc/" + self + "/task/" + self + "/children");
      if (!children.empty() && children[0] != '<') return std::stoi(children);
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  pid_t reaper_ = -1;
  int from_reaper_ = -1;
  int launched_ = -1;
  pid_t daemon_ = 0;
  int status_ = -3;
};

TEST_F(InvocationTest, ARelativeMountpointIsUnmountedAtExitFromAnyDirectory) {
  std::string name = unique_name("rel");
  std::string mnt = dir_ + "/" + name;
  cleanup_.push_back(mnt);
  sh("mkdir " + quote(mnt));
  Detached d(dir_, {seg_, name});
  ASSERT_EQ(d.launched(), 0);
  ASSERT_TRUE(is_mounted(mnt)) << "mounted at " << mnt << " when the command returned";
  EXPECT_EQ(sh("echo 7 > " + quote(mnt + "/bar") + " && cat " + quote(mnt + "/bar")).out, "7\n");
  d.send(SIGTERM);
  EXPECT_EQ(d.status(), 0);
  EXPECT_EQ(mounts_at(mnt), 0) << "SIGTERM unmounted the mount the relative name named at start";
}

TEST_F(InvocationTest, TheUnmountAtExitLeavesAMountThatIsNotItsOwn) {
  // first: DIR/a/mnt. Then DIR/a moves to DIR/moved and DIR/a becomes a symlink to DIR/other,
  // where other/mnt is another fieldfs mount: at exit, DIR/a/mnt names that one, not ours.
  for (const char* d : {"/a", "/a/mnt", "/other", "/other/mnt"}) ::mkdir((dir_ + d).c_str(), 0755);
  std::string other_seg = unique_name("other");
  cleanup_.insert(cleanup_.end(), {dir_ + "/a/mnt", dir_ + "/moved/mnt", dir_ + "/other/mnt"});
  Detached first(dir_, {seg_, dir_ + "/a/mnt"});
  ASSERT_EQ(first.launched(), 0);
  Detached other(dir_, {other_seg, dir_ + "/other/mnt"});
  ASSERT_EQ(other.launched(), 0);
  ASSERT_EQ(sh("echo 9 > " + quote(dir_ + "/other/mnt/bar")).status, 0);
  ASSERT_EQ(::rename((dir_ + "/a").c_str(), (dir_ + "/moved").c_str()), 0);
  ASSERT_EQ(::symlink((dir_ + "/other").c_str(), (dir_ + "/a").c_str()), 0);
  first.send(SIGTERM);
  EXPECT_EQ(first.status(), 0);
  EXPECT_EQ(mounts_at(dir_ + "/other/mnt"), 1) << "the other mount is untouched";
  EXPECT_EQ(slurp(dir_ + "/other/mnt/bar"), "9\n") << "and still serves";
  other.send(SIGTERM);
  EXPECT_EQ(other.status(), 0);
  EXPECT_EQ(mounts_at(dir_ + "/other/mnt"), 0);
  ::unlink(("/dev/shm/" + other_seg).c_str());
}

}  // namespace
}  // namespace fieldfs::test
