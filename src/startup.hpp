// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"
#include "options.hpp"

namespace fieldfs {

/// The version string set by the build.
inline constexpr const char* kVersion = FIELDFS_VERSION;

/// Prints "fieldfs: <why>" on stderr; returns the exit status for a failure before the mount.
int startup_failure(const std::string& why);

/// The schema the options ask for; prints the reason and returns nullopt on failure.
std::optional<Schema> load_schema(const Options& options);

/// Why `path` cannot be mounted on ("" if it can): missing, not a directory, or a stale mount
/// (with the command that clears it).
std::string check_mountpoint(const std::string& path);

/// Opens the segment the options name; prints the reason and returns nullopt on failure.
std::optional<Segment> open_segment(const Options& options, std::uint32_t size);

}  // namespace fieldfs
