// SPDX-License-Identifier: MIT
#pragma once

#include "core/tree.hpp"
#include "core/watcher.hpp"

struct fuse_lowlevel_ops;

namespace fieldfs {

/// What the ops are given as userdata.
struct Served {
  Tree& tree;
  unsigned max_read;  ///< the -o max_read the session was created with
  Watcher& watcher;
};

/// Watcher callbacks: wake the poller behind a fuse_pollhandle and free it; or only free it.
void notify_poll_handle(void* handle);
void discard_poll_handle(void* handle);

/// The op table; each op's userdata is a Served.
const fuse_lowlevel_ops& operations();

}  // namespace fieldfs
