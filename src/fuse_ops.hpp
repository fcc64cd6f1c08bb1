// SPDX-License-Identifier: MIT
#pragma once

#include "fieldfs/tree.hpp"

struct fuse_lowlevel_ops;

namespace fieldfs {

/// What the ops are given as userdata.
struct Served {
  Tree& tree;
  unsigned max_read;  ///< the -o max_read the session was created with
};

/// The op table; each op's userdata is a Served.
const fuse_lowlevel_ops& operations();

}  // namespace fieldfs
