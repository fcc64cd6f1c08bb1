// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <string_view>

namespace fieldfs {

/// Sends every later log_line() to syslog (openlog("fieldfs", LOG_PID, LOG_DAEMON); journald
/// reads /dev/log) instead of stderr: a detached daemon's stderr is /dev/null.
void log_to_syslog();

/// Logs one line: "fieldfs: <text>" on stderr in the foreground, <text> at LOG_ERR in syslog
/// once detached. Control characters in `text` are escaped, so a line stays one line.
void log_line(std::string_view text);

/// A condition that is logged once per process, not once per request: the first call of
/// first() returns true, every later one (on any thread) false.
class Once {
 public:
  bool first() { return !done_.exchange(true); }

 private:
  std::atomic<bool> done_{false};
};

}  // namespace fieldfs
