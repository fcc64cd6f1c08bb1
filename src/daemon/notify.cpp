// SPDX-License-Identifier: MIT
// sd_notify's datagram protocol, written out rather than linked from libsystemd: the protocol is
// a stable, documented interface (sd_notify(3), "Notification protocol"), it takes a dozen
// lines, and fieldfs also runs in containers and on hosts without systemd, where a new run-time
// dependency would buy nothing.
#include "daemon/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fieldfs/unique_fd.hpp"

namespace fieldfs {

bool notify_service_manager(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return true;
  std::string_view name(env);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((name[0] != '/' && name[0] != '@') || name.size() > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';  // abstract: no trailing NUL, the length counts
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  ssize_t sent = 0;
  do {
    sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), length);
  } while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(state.size());
}

std::string ready_state() { return "READY=1\nMAINPID=" + std::to_string(::getpid()); }

}  // namespace fieldfs
