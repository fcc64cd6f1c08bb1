// SPDX-License-Identifier: MIT
// fieldfs-watch FILE...: prints "FILE VALUE" for each file now and each time its value changes,
// for shell loops (`fieldfs-watch /mnt/foo/bar | while read -r file value; do ...; done`). Shell
// scripts cannot call poll(2), and inotify does not see stores made through a mapping.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

namespace {

struct Watched {
  std::string path;
  int fd = -1;
  std::string last;
};

std::string why(int e) { return std::error_code(e, std::generic_category()).message(); }

/// The file's value without its newline; false (with a message) if it cannot be read.
bool read_value(Watched& w, std::string& value) {
  char buf[8192];
  ssize_t n = ::pread(w.fd, buf, sizeof buf, 0);
  if (n < 0) {
    std::fprintf(stderr, "fieldfs-watch: %s: %s\n", w.path.c_str(), why(errno).c_str());
    return false;
  }
  value.assign(buf, static_cast<std::size_t>(n));
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return true;
}

/// Prints the value if it changed; false if the file cannot be read any more.
bool report(Watched& w, bool always) {
  std::string value;
  if (!read_value(w, value)) return false;
  if (always || value != w.last) {
    std::printf("%s %s\n", w.path.c_str(), value.c_str());
    std::fflush(stdout);
    w.last = value;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fprintf(argc < 2 ? stderr : stdout,
                 "usage: fieldfs-watch FILE...\n"
                 "Prints \"FILE VALUE\" for each field file now and whenever its value changes.\n");
    return argc < 2 ? 2 : 0;
  }
  std::vector<Watched> files;
  std::vector<pollfd> fds;
  for (int i = 1; i < argc; ++i) {
    int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(stderr, "fieldfs-watch: %s: %s\n", argv[i], why(errno).c_str());
      return 1;
    }
    files.push_back({argv[i], fd, {}});
    fds.push_back({fd, POLLPRI | POLLERR, 0});
    if (!report(files.back(), true)) return 1;
  }
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "fieldfs-watch: poll: %s\n", why(errno).c_str());
      return 1;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLNVAL) != 0) return 1;
      if ((fds[i].revents & (POLLPRI | POLLERR)) != 0 && !report(files[i], false)) return 1;
    }
  }
}
