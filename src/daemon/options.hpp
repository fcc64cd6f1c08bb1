// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"

namespace fieldfs {

/// Everything the command line (or mount(8)'s helper, or fstab) asked for.
struct Options {
  std::string source;
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;
  bool single_thread = false;
  unsigned threads = 0;  ///< -o threads=N: 0 picks the default loop
  bool help = false;
  bool version = false;
  bool layout = false;
  bool read_only = false;
  bool create = true;
  bool allow_foreign_owner = false;  ///< -o allow_foreign_owner: mount a segment another user owns
  mode_t mode = 0600;
  std::optional<uid_t> uid;  ///< -o uid=N: owner of the files (default: the mounting user)
  std::optional<gid_t> gid;  ///< -o gid=N: their group (default: the mounting user's)
  mode_t umask = 022;        ///< -o umask=OCTAL: bits cleared from 0666, 0444 and 0777
  unsigned poll_ms = 10;
  std::string seq;                  ///< -o seq=FIELD: the sequence counter's path (SPEC §8)
  unsigned seq_wait_ms = 200;       ///< -o seq_wait_ms=N: bound of a wait on an odd counter
  std::string etcd;                 ///< -o etcd=URL,URL: replicate through etcd (SPEC §9)
  std::string etcd_key;             ///< -o etcd_key=KEY (default fieldfs/SOURCE)
  unsigned etcd_timeout_ms = 2000;  ///< -o etcd_timeout_ms=N: bound of one etcd call
  unsigned max_read =
      4096;  ///< one page: a field's text fits, and cat's 128 KiB reads pin one page
  std::string schema_file;
  std::string struct_name;
  std::vector<std::string> include_dirs;
  std::vector<std::string> fuse_options;  ///< passed on to libfuse as -o
};

/// The outcome of parsing: options, or a one-line reason (without the "fieldfs: " prefix).
struct ParsedOptions {
  Options options;
  std::string error;
};

/// Parses argv as `fieldfs [OPTIONS] SOURCE MOUNTPOINT`, options anywhere, `-o a,b=c` repeated.
ParsedOptions parse_options(const std::vector<std::string>& args);

/// `items` as one -o list that libfuse splits back into the same items (`,` and `\` escaped).
std::string join_options(const std::vector<std::string>& items);

/// The text of --help.
std::string usage_text();

}  // namespace fieldfs
