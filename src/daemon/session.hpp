// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "core/tree.hpp"
#include "daemon/fuse_ops.hpp"
#include "daemon/options.hpp"

struct fuse_session;

namespace fieldfs {

/// What runs beside the request loop: started once the daemon has detached (threads do not
/// survive its fork), stopped when the loop ends. The fleet replica is one.
struct Companion {
  std::function<void()> start = [] {};
  std::function<void()> stop = [] {};
};

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
  int serve(Tree& tree, const Companion& companion = {});
  /// Asks the watcher to sample now (a change it cannot see coming); from any thread, and a no-op
  /// outside serve().
  void kick();
  /// Whether serve() mounted: false if libfuse, fusermount3 or the kernel refused the mount.
  bool mounted() const { return mounted_; }

 private:
  Session(fuse_session* se, const Options& options) : se_(se), options_(options) {}
  int run(const Companion& companion);
  void unmount_if_ours();

  fuse_session* se_;
  Options options_;
  bool mounted_ = false;
  std::optional<int> mount_id_;             ///< from /proc/self/mountinfo right after the mount
  std::atomic<Watcher*> watcher_{nullptr};  ///< while serve() runs
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
