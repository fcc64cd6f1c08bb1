// SPDX-License-Identifier: MIT
#pragma once

#include "fieldfs/tree.hpp"
#include "options.hpp"

namespace fieldfs {

/// Mounts `tree` at options.mountpoint, detaches unless -f, serves until unmounted or until
/// SIGINT/SIGTERM, then unmounts. Returns the process exit status (0 on a clean stop).
int serve(Tree& tree, const Options& options);

}  // namespace fieldfs

namespace fieldfs {

/// libfuse's version, as the running library reports it.
const char* fuse_version_text();

}  // namespace fieldfs
