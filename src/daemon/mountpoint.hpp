// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

namespace fieldfs {

/// A mountpoint resolved, or why it cannot be mounted on.
struct Mountpoint {
  std::string path;   ///< absolute, without symbolic links (realpath)
  std::string error;  ///< "" if it can be mounted on
};

/// Resolves `typed` (so that a relative name still names it after the daemon leaves its working
/// directory) and says why it cannot be mounted on: missing, not a directory, already a mount
/// point (a live one: of what type and source; a stale one, whose daemon died: how to clear it).
Mountpoint check_mountpoint(const std::string& typed);

/// One line of /proc/self/mountinfo, its octal escapes decoded.
struct MountEntry {
  int id = -1;
  int parent = -1;
  std::string point;
  std::string type;
  std::string source;
};

/// The mount on top at `path` (the one no other mount at `path` sits on), if any.
std::optional<MountEntry> top_mount_at(const std::string& path);

/// Mount `id`, if it is still mounted.
std::optional<MountEntry> mount_with_id(int id);

}  // namespace fieldfs
