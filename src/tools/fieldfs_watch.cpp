// SPDX-License-Identifier: MIT
// fieldfs-watch [-n COUNT] FILE...: prints "FILE VALUE" for each file now and each time its value
// changes (and exits 0 after COUNT lines), for shell loops (`fieldfs-watch /mnt/foo/bar | while
// read -r file value; do ...; done`). Shell scripts cannot call poll(2), and inotify does not see
// stores made through a mapping.
//
// An open file keeps a mount busy, so `fusermount3 -u` fails while we wait; a lazy unmount
// (`fusermount3 -uz`, or the daemon's own at SIGTERM) detaches the mount but the kernel keeps it,
// and the daemon serving it, until the last file is closed, and wakes no poller. So we also poll
// /proc/self/mountinfo, which reports POLLPRI|POLLERR when the mount table changes, and exit once
// a file's filesystem is no longer mounted.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace {

struct Watched {
  std::string path;
  int fd = -1;
  std::string last;
  std::string dev;  ///< "major:minor" of its filesystem, as mountinfo writes it
};

/// Lines still to print before exiting 0 (-n COUNT); -1: no limit.
long g_lines_left = -1;

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
    if (g_lines_left > 0 && --g_lines_left == 0) std::exit(0);
  }
  return true;
}

/// The "major:minor" of every mounted filesystem, from /proc/self/mountinfo (field 3).
std::vector<std::string> mounted_devices(int mountinfo) {
  std::string text;
  char buf[8192];
  ssize_t n = 0;
  for (off_t at = 0; (n = ::pread(mountinfo, buf, sizeof buf, at)) > 0; at += n) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  std::vector<std::string> devs;
  std::istringstream lines(text);
  std::string id;
  std::string parent;
  std::string dev;
  for (std::string rest; lines >> id >> parent >> dev && std::getline(lines, rest);) {
    devs.push_back(dev);
  }
  return devs;
}

/// False (with a message) once a watched file's filesystem is no longer mounted.
bool still_mounted(const std::vector<Watched>& files, int mountinfo) {
  auto devs = mounted_devices(mountinfo);
  for (const auto& w : files) {
    bool found = false;
    for (const auto& d : devs) found = found || d == w.dev;
    if (!found) {
      std::fprintf(stderr, "fieldfs-watch: %s: unmounted\n", w.path.c_str());
      return false;
    }
  }
  return true;
}

/// Opens `path` and prints its value; false (with a message) if it cannot be read.
bool start_watching(const char* path, std::vector<Watched>& files) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "fieldfs-watch: %s: %s\n", path, why(errno).c_str());
    return false;
  }
  files.push_back(
      {path, fd, {}, std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev))});
  return report(files.back(), true);
}

/// -n COUNT: a whole number of lines, at least 1.
bool parse_count(const char* text) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || n < 1) return false;
  g_lines_left = n;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "-n") {
    if (!parse_count(argv[2])) {
      std::fprintf(stderr, "fieldfs-watch: -n %s: not a count of lines (1 or more)\n", argv[2]);
      return 2;
    }
    first = 3;
  }
  if (argc <= first || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fprintf(argc <= first ? stderr : stdout,
                 "usage: fieldfs-watch [-n COUNT] FILE...\n"
                 "Prints \"FILE VALUE\" for each field file now and whenever its value changes;\n"
                 "with -n, exits 0 after COUNT lines.\n");
    return argc <= first ? 2 : 0;
  }
  std::vector<Watched> files;
  for (int i = first; i < argc; ++i) {
    if (!start_watching(argv[i], files)) return 1;
  }
  int mountinfo = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  std::vector<pollfd> fds;
  fds.reserve(files.size() + 1);
  for (const auto& w : files) fds.push_back({w.fd, POLLPRI | POLLERR, 0});
  fds.push_back({mountinfo, POLLPRI | POLLERR, 0});  // fd -1 (no /proc): poll skips it
  if (mountinfo >= 0 && !still_mounted(files, mountinfo)) return 1;
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "fieldfs-watch: poll: %s\n", why(errno).c_str());
      return 1;
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      if ((fds[i].revents & POLLNVAL) != 0) return 1;
      if ((fds[i].revents & (POLLPRI | POLLERR)) != 0 && !report(files[i], false)) return 1;
    }
    if (fds.back().revents != 0 && !still_mounted(files, mountinfo)) return 1;
  }
}
