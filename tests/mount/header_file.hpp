// SPDX-License-Identifier: MIT
#pragma once

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "harness.hpp"

namespace fieldfs::test {

/// A C header written into a fresh temporary directory, removed with it: `-o schema=` + path().
class HeaderFile {
 public:
  explicit HeaderFile(const std::string& text) {
    char tmpl[] = "/tmp/fieldfs-header-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(path()) << text;
  }
  HeaderFile(const HeaderFile&) = delete;
  HeaderFile& operator=(const HeaderFile&) = delete;
  ~HeaderFile() { sh("rm -rf " + quote(dir_)); }
  std::string path() const { return dir_ + "/s.h"; }
  std::string option() const { return "schema=" + path(); }

 private:
  std::string dir_;
};

/// utime + stime of a process, in clock ticks (/proc/PID/stat).
inline long cpu_ticks(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stol(field);
  }
  return ticks;
}

/// A process's resident set in KiB (VmRSS of /proc/PID/status); -1 if unknown.
inline long vm_rss_kib(pid_t pid) {
  std::string status = slurp("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::stol(status.substr(at + 6));
}

}  // namespace fieldfs::test
