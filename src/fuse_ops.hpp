// SPDX-License-Identifier: MIT
#pragma once

struct fuse_lowlevel_ops;

namespace fieldfs {

/// The op table; each op's userdata is the fieldfs::Tree being served.
const fuse_lowlevel_ops& operations();

}  // namespace fieldfs
