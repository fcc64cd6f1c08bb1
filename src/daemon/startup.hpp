// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/sections.hpp"
#include "core/tree.hpp"
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

/// The segment `source` names, as a SOURCE that names it again from any directory and reads as
/// what it is: a shm object as typed if typed NAME, else "shm:NAME" ("/NAME" looks like a file);
/// a file by its absolute path (realpath of its directory, then its name), "file:" kept if
/// typed and added for a file in / ("/NAME" alone is a shm name); the text if it names none.
/// Kept close to what was typed so that mount -a finds an fstab line's mount already there.
std::string segment_label(const std::string& source);

/// Opens the segment the options name; prints the reason and returns nullopt on failure. The
/// first access that finds the segment shrunk below the struct is logged (log_line).
std::optional<Segment> open_segment(const Options& options, std::uint32_t size);

/// What -o seq= and seq_wait_ms= ask of the tree; prints why the counter cannot be one and
/// returns nullopt.
std::optional<Consistency> consistency_of(const Options& options, const Schema& schema);

/// Logs (once per mount, log_line) that the counter stayed odd for a whole wait.
void log_stuck_counter(Sections& sections, const Options& options);

}  // namespace fieldfs
