// SPDX-License-Identifier: MIT
// Where the daemon's messages go. Before it detaches, stderr (the user's terminal, or the
// journal under the unit's -f); after, syslog, since a detached daemon's stderr is /dev/null.
#include "daemon/log.hpp"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "core/text.hpp"

namespace fieldfs {

namespace {

constexpr std::string_view kPrefix = "fieldfs: ";

std::atomic<bool> g_syslog{false};

}  // namespace

void log_to_syslog() {
  ::openlog("fieldfs", LOG_PID, LOG_DAEMON);
  g_syslog = true;
}

void log_line(std::string_view text) {
  if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
  std::string line = one_line(text);
  if (g_syslog) {
    ::syslog(LOG_ERR, "%s", line.c_str());  // the ident "fieldfs[PID]" is the prefix there
    return;
  }
  line = std::string(kPrefix) + line + '\n';
  std::fputs(line.c_str(), stderr);  // one call: lines of two threads never interleave
}

}  // namespace fieldfs
