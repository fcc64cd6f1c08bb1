// SPDX-License-Identifier: MIT
// fieldfs as a service (issue 13): systemd's notification protocol, tested without systemd by a
// datagram socket of the test's own (sd_notify(3) is the oracle for what arrives), and the
// source that /proc/self/mountinfo shows for each kind of segment (findmnt reads it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "harness.hpp"

namespace fieldfs::test {
namespace {

/// A datagram socket bound where NOTIFY_SOCKET points while it lives (a path in a fresh
/// directory, or an abstract name "@..."), as systemd binds its own.
class NotifySocket {
 public:
  explicit NotifySocket(bool abstract) {
    char tmpl[] = "/tmp/fieldfs-notify-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    name_ = abstract ? "@" + unique_name("notify") : dir_ + "/notify";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    if (abstract) addr.sun_path[0] = '\0';
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), length) == 0;
    timeval timeout{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setenv("NOTIFY_SOCKET", name_.c_str(), 1);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    std::filesystem::remove_all(dir_);
  }

  bool bound() const { return bound_; }
  /// The next datagram, or "" after 30 s without one.
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string dir_;
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

/// Mounts, and records the first notification with the mount table as it was when it arrived.
struct Notified {
  std::string message;
  std::string mountinfo_then;
};

void expect_ready_then_stopping(bool abstract) {
  NotifySocket notify(abstract);
  ASSERT_TRUE(notify.bound());
  Notified first;
  std::thread listener([&] {
    first.message = notify.next();
    first.mountinfo_then = slurp("/proc/self/mountinfo");
  });
  Mount m;
  listener.join();
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  EXPECT_EQ(first.message, "READY=1\nMAINPID=" + std::to_string(m.pid()));
  EXPECT_NE(first.mountinfo_then.find(" " + m.dir() + " "), std::string::npos)
      << "READY=1 arrived before the mount was in /proc/self/mountinfo";
  ::kill(m.pid(), SIGTERM);
  EXPECT_EQ(notify.next(), "STOPPING=1");
  EXPECT_EQ(m.signal_and_wait(0), 0) << m.daemon_stderr();
}

TEST(ServiceTest, ReadyArrivesOnceMountedAndStoppingAtSigterm) {
  expect_ready_then_stopping(false);
}

TEST(ServiceTest, NotifiesAnAbstractSocket) { expect_ready_then_stopping(true); }

/// What findmnt shows as the source of the mount at `dir`.
std::string source_of(const std::string& dir) {
  auto r = sh("findmnt -n -t fuse.fieldfs -o SOURCE --mountpoint " + quote(dir));
  return r.out.empty() ? r.err : r.out.substr(0, r.out.find('\n'));
}

TEST(ServiceTest, SourceNamesTheSegmentFromAnyDirectory) {
  char tmpl[] = "/tmp/fieldfs-source-XXXXXX";
  std::string work = ::mkdtemp(tmpl);
  std::string real = std::filesystem::canonical(work).string();
  std::filesystem::create_directory(work + "/sub");
  std::string slashed_name = unique_name("seg");  // the harness removes only sources without '/'
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(work);  // the daemon is started from here
  {
    Mount relative({}, "./state");
    Mount absolute({}, work + "/sub/../other");
    Mount shm;
    Mount shm_prefixed({}, "shm:" + unique_name("seg"));
    Mount slashed({}, "/" + slashed_name);
    Mount given({"-o", "fsname=mine"});
    std::filesystem::current_path(cwd);
    EXPECT_EQ(source_of(relative.dir()), real + "/state");
    EXPECT_EQ(source_of(absolute.dir()), real + "/other");
    EXPECT_EQ(source_of(shm.dir()), shm.source());  // as typed: a name without '/' is shm
    EXPECT_EQ(source_of(shm_prefixed.dir()), shm_prefixed.source());
    EXPECT_EQ(source_of(slashed.dir()), "shm:" + slashed_name);  // "/NAME" would read as a file
    EXPECT_EQ(source_of(given.dir()), "mine");
    auto fstype = sh("findmnt -n -o FSTYPE --mountpoint " + quote(shm.dir())).out;
    EXPECT_EQ(fstype, "fuse.fieldfs\n");
  }
  std::filesystem::current_path(cwd);
  std::filesystem::remove_all(work);
  std::filesystem::remove("/dev/shm/" + slashed_name);
}

}  // namespace
}  // namespace fieldfs::test
