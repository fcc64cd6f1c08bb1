// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace fieldfs {

/// Sends `state` ("READY=1\nMAINPID=42", "STOPPING=1") to the service manager, as sd_notify(3)
/// does: one datagram on the AF_UNIX socket NOTIFY_SOCKET names (a path, or "@name" for an
/// abstract socket). Without NOTIFY_SOCKET (not run by systemd) it does nothing and returns
/// true. False if the name is not a socket address (too long, neither '/' nor '@') or sending
/// failed; nothing is logged: systemd's own timeout reports a unit that never became ready.
bool notify_service_manager(std::string_view state);

/// The state line for "the mount is in place": READY=1 and this process's pid, which is the
/// service's main pid (the daemon notifies after it detached, so also without -f).
std::string ready_state();

}  // namespace fieldfs
