// SPDX-License-Identifier: MIT
#include "daemon/options.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace fieldfs {

namespace {

/// Options mount(8) adds or that mean nothing for fieldfs: accepted and dropped.
constexpr std::string_view kIgnored[] = {
    "rw",          "defaults", "_netdev",    "nofail", "auto",     "noauto",
    "user",        "users",    "nouser",     "owner",  "relatime", "norelatime",
    "strictatime", "lazytime", "nolazytime", "atime",  "noatime",  "diratime",
    "nodiratime",  "loop",     "silent",     "loud"};

bool parse_unsigned(std::string_view text, int base, unsigned& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
}

/// `-o mode=` or `-o umask=` (`item`): octal permission bits, 0777 at most; a reason if not.
std::string parse_permission_bits(std::string_view item, std::string_view value, mode_t& out) {
  unsigned m = 0;
  if (!parse_unsigned(value, 8, m)) {
    return "-o " + std::string(item) + ": not an octal " +
           (item.starts_with("mode") ? "mode (e.g. 0640)" : "mask (e.g. 027)");
  }
  if (m > 0777) {
    return "-o " + std::string(item) +
           ": only permission bits, 0777 at most (no setuid, setgid or sticky bit)";
  }
  out = static_cast<mode_t>(m);
  return {};
}

/// `-o uid=` or `-o gid=` (`item`): a decimal id, not -1 (which chown(2) reads as "no change").
template <class Id>
std::string parse_id(std::string_view item, std::string_view value, std::optional<Id>& out) {
  unsigned id = 0;
  if (!parse_unsigned(value, 10, id) || id == static_cast<unsigned>(-1)) {
    return "-o " + std::string(item) + ": not a " + (item.starts_with("uid") ? "user" : "group") +
           " id (a number, e.g. 1000)";
  }
  out = static_cast<Id>(id);
  return {};
}

/// Applies one `-o` item; returns a reason if it is malformed.
std::string apply_option(std::string_view item, Options& o) {
  auto eq = item.find('=');
  std::string_view key = item.substr(0, eq);
  std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
  bool has_value = eq != std::string_view::npos;
  auto needs_value = [&] { return std::string("-o ") + std::string(key) + ": needs a value"; };
  if (key == "schema") {
    if (value.empty()) return needs_value();
    o.schema_file = value;
  } else if (key == "struct") {
    if (value.empty()) return needs_value();
    o.struct_name = value;
  } else if (key == "include") {
    if (value.empty()) return needs_value();
    o.include_dirs.emplace_back(value);
  } else if (key == "mode") {
    return parse_permission_bits(item, value, o.mode);
  } else if (key == "umask") {
    return parse_permission_bits(item, value, o.umask);
  } else if (key == "uid") {
    return parse_id(item, value, o.uid);
  } else if (key == "gid") {
    return parse_id(item, value, o.gid);
  } else if (key == "poll_ms") {
    if (!parse_unsigned(value, 10, o.poll_ms) || o.poll_ms == 0 || o.poll_ms > 60000) {
      return "-o poll_ms=" + std::string(value) + ": not a number of milliseconds (1-60000)";
    }
  } else if (key == "seq") {
    if (value.empty()) return needs_value();
    o.seq = value;
  } else if (key == "seq_wait_ms") {
    if (!parse_unsigned(value, 10, o.seq_wait_ms) || o.seq_wait_ms == 0 || o.seq_wait_ms > 10000) {
      return "-o seq_wait_ms=" + std::string(value) + ": not a number of milliseconds (1-10000)";
    }
  } else if (key == "etcd") {
    if (value.empty()) return needs_value();
    o.etcd = value;
  } else if (key == "etcd_key") {
    if (value.empty()) return needs_value();
    o.etcd_key = value;
  } else if (key == "etcd_timeout_ms") {
    if (!parse_unsigned(value, 10, o.etcd_timeout_ms) || o.etcd_timeout_ms < 100 ||
        o.etcd_timeout_ms > 60000) {
      return "-o etcd_timeout_ms=" + std::string(value) +
             ": not a number of milliseconds (100-60000)";
    }
  } else if (key == "threads") {
    if (!parse_unsigned(value, 10, o.threads) || o.threads == 0 || o.threads > 64) {
      return "-o threads=" + std::string(value) + ": not a thread count (1-64)";
    }
  } else if (key == "max_read") {
    if (!parse_unsigned(value, 10, o.max_read) || o.max_read < 4096) {
      return "-o max_read=" + std::string(value) + ": not a byte count of 4096 or more";
    }
  } else if (key == "nocreate" && !has_value) {
    o.create = false;
  } else if (key == "allow_foreign_owner" && !has_value) {
    o.allow_foreign_owner = true;
  } else if (key == "ro" && !has_value) {
    o.read_only = true;
    o.fuse_options.emplace_back("ro");
  } else if (std::find(std::begin(kIgnored), std::end(kIgnored), key) != std::end(kIgnored) ||
             key.starts_with("x-") || key == "comment") {
    // accepted for mount(8) and fstab; nothing to do
  } else if (!item.empty()) {
    o.fuse_options.emplace_back(item);
  }
  return {};
}

/// Splits `-o a,b=c` at its commas as libfuse's fuse_opt_parse does: a backslash takes the next
/// character literally (`\,` is a comma inside a value, `\\` a backslash) and `\NNN` (octal, first
/// digit 0-3) is that byte, so fstab's `\054` works too; a final lone backslash stays.
std::string apply_option_list(std::string_view list, Options& o) {
  auto octal = [](char c, char top) { return c >= '0' && c <= top; };
  std::string item;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ',') {
      item.resize(std::min(item.size(), item.find('\0')));  // \000 ends a C string in libfuse
      if (auto why = apply_option(item, o); !why.empty()) return why;
      item.clear();
    } else if (list[i] != '\\' || i + 1 == list.size()) {
      item += list[i];
    } else if (i + 3 < list.size() && octal(list[i + 1], '3') && octal(list[i + 2], '7') &&
               octal(list[i + 3], '7')) {
      item +=
          static_cast<char>((list[i + 1] - '0') * 64 + (list[i + 2] - '0') * 8 + list[i + 3] - '0');
      i += 3;
    } else {
      item += list[++i];
    }
  }
  return {};
}

}  // namespace

namespace {

ParsedOptions parse_arguments(const std::vector<std::string>& args) {
  ParsedOptions r;
  Options& o = r.options;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-o") {
      if (i + 1 == args.size()) return {o, "-o: needs an option list"};
      r.error = apply_option_list(args[++i], o);
    } else if (a.starts_with("-o")) {
      r.error = apply_option_list(a.substr(2), o);
    } else if (a == "-f") {
      o.foreground = true;
    } else if (a == "-d" || a == "--debug") {
      o.debug = o.foreground = true;
    } else if (a == "-s") {
      o.single_thread = true;
    } else if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "-V" || a == "--version") {
      o.version = true;
    } else if (a == "--layout") {
      o.layout = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return {o, std::string(a) + ": unknown flag (see fieldfs --help)"};
    } else {
      positional.emplace_back(a);
    }
    if (!r.error.empty()) return r;
  }
  if (o.help || o.version) return r;
  if (o.single_thread && o.threads > 1) {
    return {o, "-s and -o threads=" + std::to_string(o.threads) +
                   " conflict: -s serves with one thread; give one of them"};
  }
  // Other users may enter: let the kernel enforce the modes (0444 for const fields, for all).
  auto has = [&](std::string_view opt) {
    return std::find(o.fuse_options.begin(), o.fuse_options.end(), opt) != o.fuse_options.end();
  };
  if (has("allow_other") && !has("default_permissions")) {
    o.fuse_options.emplace_back("default_permissions");
  }
  std::size_t wanted = o.layout ? 0 : 2;
  if (positional.size() < wanted) {
    return {o, "missing " +
                   std::string(positional.empty() ? "SOURCE and MOUNTPOINT" : "MOUNTPOINT") +
                   " (usage: fieldfs [OPTIONS] SOURCE MOUNTPOINT)"};
  }
  if (positional.size() > wanted && !(o.layout && positional.size() <= 2)) {
    return {o, positional.back() + ": unexpected argument"};
  }
  if (!positional.empty()) o.source = positional[0];
  if (positional.size() >= 2) o.mountpoint = positional[1];
  return r;
}

}  // namespace

ParsedOptions parse_options(const std::vector<std::string>& args) {
  ParsedOptions r = parse_arguments(args);
  r.error = one_line(r.error);
  return r;
}

std::string join_options(const std::vector<std::string>& items) {
  std::string list;
  for (const auto& item : items) {
    if (!list.empty()) list += ',';
    for (char c : item) {
      if (c == ',' || c == '\\') list += '\\';
      list += c;
    }
  }
  return list;
}

std::string usage_text() {
  return R"(usage: fieldfs [OPTIONS] SOURCE MOUNTPOINT
       mount -t fuse.fieldfs SOURCE MOUNTPOINT [-o OPTIONS]

Mounts a C struct in shared memory as a directory with one text file per field.

SOURCE:  NAME, /NAME or shm:NAME   a POSIX shared-memory object (/dev/shm/NAME)
         PATH with a '/', file:PATH a regular file, mapped MAP_SHARED

Flags:
  -f              stay in the foreground
  -d              debug output (implies -f)
  -s              single-threaded request loop (the default; see -o threads=N)
  -h, --help      this text
  -V, --version   print the version
  --layout        print the struct's layout and exit without mounting

Options (-o a,b=c; a comma inside a value is written \,):
  schema=FILE     C header that defines the struct (default: struct foo { int bar; int baz; })
  struct=NAME     which struct of FILE (default: the last one defined)
  include=DIR     extra header search directory
  mode=OCTAL      permission bits for a segment fieldfs creates (default 0600)
  uid=N           owner of the files in the mount (default: the mounting user)
  gid=N           group of the files in the mount (default: the mounting user's group)
  umask=OCTAL     bits cleared from the files' modes: writable fields 0666, const fields
                  and ro mounts 0444, directories 0777 (default 022: 0644, 0444, 0755);
                  with allow_other the kernel enforces them
  nocreate        fail instead of creating a missing segment
  allow_foreign_owner
                  mount a segment that another user owns (refused by default)
  ro              read-only mount: fields are 0444 (less umask), writes fail with EROFS
  threads=N       serve requests with up to N threads (default: 1; not with -s)
  max_read=N      largest read request in bytes (default 4096)
  poll_ms=N       how often watched fields are sampled (default 10)
  seq=FIELD       the struct's sequence counter (an unsigned 4- or 8-byte field): every
                  read is a consistent snapshot, every write one section, a .json write
                  that names FIELD a compare-and-set (EAGAIN), pollers woken at once
  seq_wait_ms=N   how long to wait on a counter left odd before EAGAIN (default 200)
  etcd=URL\,URL   replicate the struct through etcd (its client URLs, commas escaped)
  etcd_key=KEY    the fleet's key in etcd (default: fieldfs/SOURCE)
  etcd_timeout_ms=N
                  how long a write waits for etcd before EIO (default 2000)
  and FUSE's own: allow_other, default_permissions, fsname=, subtype=, max_read=, ...
)";
}

}  // namespace fieldfs
