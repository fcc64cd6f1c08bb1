// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/options.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

namespace fieldfs {

/// The version string set by the build.
inline constexpr const char* kVersion = FIELDFS_VERSION;

/// Prints "fieldfs: <why>" on stderr; returns the exit status for a failure before the mount.
int startup_failure(const std::string& why);

/// The schema the options ask for; prints the reason and returns nullopt on failure.
std::optional<Schema> load_schema(const Options& options);

/// Removes the segment `source` names: one this invocation created, whose mount then failed.
/// With `only_if_empty`, only a regular file of 0 bytes owned by this user (a segment whose
/// creation failed half-way, before any byte was written).
void remove_segment(const std::string& source, bool only_if_empty);

/// Whether the segment `source` names exists (as anything).
bool segment_exists(const std::string& source);

/// Opens the segment the options name; prints the reason and returns nullopt on failure.
std::optional<Segment> open_segment(const Options& options, std::uint32_t size);

}  // namespace fieldfs
