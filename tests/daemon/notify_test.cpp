// SPDX-License-Identifier: MIT
// sd_notify(3)'s protocol without systemd: the test binds the datagram socket systemd would.
#include "daemon/notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "daemon/startup.hpp"

namespace fieldfs {
namespace {

/// Binds `name` (a path, or "@..." for an abstract socket); the fd, or -1.
int bind_datagram(const std::string& name) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string received(int fd) {
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "<nothing>";
}

TEST(NotifyTest, SendsToAPathAndToAnAbstractName) {
  char tmpl[] = "/tmp/fieldfs-notify-unit-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string abstract = "@fieldfs-notify-unit-" + std::to_string(::getpid());
  for (const std::string& name : {dir + "/socket", abstract}) {
    int fd = bind_datagram(name);
    ASSERT_GE(fd, 0) << name;
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
    EXPECT_TRUE(notify_service_manager("STOPPING=1")) << name;
    EXPECT_EQ(received(fd), "STOPPING=1") << name;
    ::close(fd);
  }
  ::unsetenv("NOTIFY_SOCKET");
  std::filesystem::remove_all(dir);
}

TEST(NotifyTest, DoesNothingWithoutNotifySocketAndFailsOnABadOne) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(notify_service_manager("READY=1"));
  for (const char* bad : {"relative/socket", "/nonexistent/fieldfs/socket"}) {
    ::setenv("NOTIFY_SOCKET", bad, 1);
    EXPECT_FALSE(notify_service_manager("READY=1")) << bad;
  }
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_FALSE(notify_service_manager("READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
}

TEST(NotifyTest, ReadyCarriesThisProcessAsMainPid) {
  EXPECT_EQ(ready_state(), "READY=1\nMAINPID=" + std::to_string(::getpid()));
}

TEST(SegmentLabelTest, NamesShmObjectsAndFilesUnambiguously) {
  EXPECT_EQ(segment_label("such_foo"), "such_foo");  // no '/': never a file
  EXPECT_EQ(segment_label("/such_foo"), "shm:such_foo");
  EXPECT_EQ(segment_label("shm:such_foo"), "shm:such_foo");
  EXPECT_EQ(segment_label("shm:/such_foo"), "shm:such_foo");
  EXPECT_EQ(segment_label("file:/state"), "file:/state");  // "/state" alone is a shm name
  EXPECT_EQ(segment_label("/etc/../etc/state"), "/etc/state");
  EXPECT_EQ(segment_label("file:/etc//state"), "file:/etc/state");
  EXPECT_EQ(segment_label("/nonexistent/dir/state"), "/nonexistent/dir/state");
}

}  // namespace
}  // namespace fieldfs
