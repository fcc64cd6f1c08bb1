// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <optional>

#include "core/tree.hpp"
#include "daemon/fuse_ops.hpp"
#include "daemon/options.hpp"

struct fuse_session;

namespace fieldfs {

/// One libfuse session, created before the segment so that every option libfuse refuses is
/// refused before anything exists; the tree it serves comes later (serve()).
class Session {
 public:
  /// libfuse parses the options (fuse_session_new); nullptr if it refuses them, with its reason
  /// printed on one line. options.mountpoint must be resolved (check_mountpoint).
  static std::unique_ptr<Session> create(const Options& options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// Mounts `tree` at the mountpoint, detaches unless -f, serves until unmounted or until
  /// SIGINT/SIGTERM/SIGHUP, then unmounts if the mountpoint is still this mount (by mount ID).
  /// Returns the process exit status (0 on a clean stop); mounted() tells whether it mounted.
  int serve(Tree& tree);
  /// Whether serve() mounted: false if libfuse, fusermount3 or the kernel refused the mount.
  bool mounted() const { return mounted_; }

 private:
  Session(fuse_session* se, const Options& options) : se_(se), options_(options) {}
  int run();
  void unmount_if_ours();

  fuse_session* se_;
  Options options_;
  bool mounted_ = false;
  std::optional<int> mount_id_;  ///< from /proc/self/mountinfo right after the mount
  // The ops' userdata, whose address libfuse is given at creation, before the tree exists; it
  // is constructed in serve(), before the mount (the ops run only after it).
  union Slot {
    Slot() {}
    ~Slot() {}
    Served served;
  } slot_;
};

/// libfuse's version, as the running library reports it.
const char* fuse_version_text();

}  // namespace fieldfs
