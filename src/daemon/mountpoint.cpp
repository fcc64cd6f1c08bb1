// SPDX-License-Identifier: MIT
// Is a directory fit to mount on, and which mount is on it: read from /proc/self/mountinfo, since
// the kernel may answer stat() on a dead FUSE mount from its attribute cache.
#include "daemon/mountpoint.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "fieldfs/result.hpp"

namespace fieldfs {

namespace {

/// mountinfo escapes space, tab, newline and backslash as \NNN (octal).
std::string unescape_mountinfo(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<MountEntry> mount_table() {
  std::vector<MountEntry> table;
  std::ifstream info("/proc/self/mountinfo");
  for (std::string line; std::getline(info, line);) {
    std::istringstream words(line);
    MountEntry e;
    std::string devno;
    std::string root;
    std::string point;
    std::string word;
    words >> e.id >> e.parent >> devno >> root >> point;
    while (words >> word && word != "-") {
    }
    std::string source;
    words >> e.type >> source;
    e.point = unescape_mountinfo(point);
    e.source = unescape_mountinfo(source);
    table.push_back(std::move(e));
  }
  return table;
}

std::string stale_text(const std::string& path) {
  return path + ": " + errno_text(ENOTCONN) +
         " (a stale mount, left by a daemon that died; clear it with: fusermount3 -uz " + path +
         ")";
}

/// realpath(3); a stale mount at the last component fails it with ENOTCONN, so then its parent
/// is resolved and the last name appended.
std::optional<std::string> resolve(const std::string& typed, int& error) {
  std::error_code ec;
  auto path = std::filesystem::canonical(typed, ec);
  if (ec == std::errc::not_connected) {
    std::filesystem::path p(typed);
    auto parent = std::filesystem::canonical(p.parent_path().empty() ? "." : p.parent_path(), ec);
    if (!ec) path = parent / p.filename();
  }
  error = ec.value();
  if (ec) return std::nullopt;
  return path.string();
}

}  // namespace

Mountpoint check_mountpoint(const std::string& typed) {
  int e = 0;
  auto path = resolve(typed, e);
  if (!path) return {"", e == ENOTCONN ? stale_text(typed) : typed + ": " + errno_text(e)};
  if (auto top = top_mount_at(*path)) {
    // The kernel answers stat() from cached attributes even for a dead daemon; statfs() is
    // always sent to it, and a connection without its daemon fails with ENOTCONN.
    struct statfs fs {};
    if (::statfs(path->c_str(), &fs) != 0 && errno == ENOTCONN) return {"", stale_text(*path)};
    bool fuse = top->type == "fuse" || top->type.starts_with("fuse.");
    return {"", *path + ": already a mount point (" + top->type + " " + top->source +
                    "); unmount it first: " + (fuse ? "fusermount3 -u " : "umount ") + *path};
  }
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) {
    return {"", errno == ENOTCONN ? stale_text(*path) : *path + ": " + errno_text(errno)};
  }
  if (!S_ISDIR(st.st_mode)) return {"", *path + ": " + errno_text(ENOTDIR)};
  return {*path, ""};
}

std::optional<MountEntry> top_mount_at(const std::string& path) {
  auto table = mount_table();
  std::optional<MountEntry> top;
  for (const auto& e : table) {
    if (e.point != path) continue;
    bool covered = std::any_of(table.begin(), table.end(), [&](const MountEntry& above) {
      return above.point == path && above.parent == e.id;
    });
    if (!covered) top = e;
  }
  return top;
}

std::optional<MountEntry> mount_with_id(int id) {
  for (auto& e : mount_table()) {
    if (e.id == id) return std::move(e);
  }
  return std::nullopt;
}

}  // namespace fieldfs
