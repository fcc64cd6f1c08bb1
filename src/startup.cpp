// SPDX-License-Identifier: MIT
#include "startup.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "fieldfs/header_schema.hpp"

namespace fieldfs {

int startup_failure(const std::string& why) {
  std::fprintf(stderr, "fieldfs: %s\n", why.c_str());
  return 1;
}

std::optional<Schema> load_schema(const Options& o) {
  if (o.schema_file.empty()) {
    if (o.struct_name.empty() || o.struct_name == "foo") return Schema::builtin_foo();
    startup_failure("-o struct=" + o.struct_name + ": needs -o schema=FILE (the built-in is foo)");
    return std::nullopt;
  }
  auto loaded = load_header_schema({o.schema_file, o.struct_name, o.include_dirs});
  if (!loaded.schema) startup_failure(loaded.error);
  return std::move(loaded.schema);
}

std::string check_mountpoint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int e = errno;
    std::string why = path + ": " + errno_text(e);
    if (e == ENOTCONN) {
      why += " (a stale mount, left by a daemon that died; clear it with: fusermount3 -uz " + path +
             ")";
    }
    return why;
  }
  if (!S_ISDIR(st.st_mode)) return path + ": " + errno_text(ENOTDIR);
  return {};
}

namespace {

std::string segment_error_text(std::errc e, const Options& o) {
  switch (e) {
    case std::errc::too_many_symbolic_link_levels:
      return "is a symbolic link; fieldfs does not follow links (name the file itself)";
    case std::errc::no_such_device:
      return "not a regular file (a FIFO, device or socket cannot hold a struct)";
    case std::errc::no_such_file_or_directory:
      return errno_text(ENOENT) + (o.create ? "" : " (and -o nocreate was given)");
    case std::errc::invalid_argument:
      return "not a valid segment name (a shm name has no '/' inside and is not '.' or '..')";
    default:
      return errno_text(to_errno(e));
  }
}

}  // namespace

std::optional<Segment> open_segment(const Options& o, std::uint32_t size) {
  auto source = parse_source(o.source);
  if (!source) {
    startup_failure(o.source + ": " + segment_error_text(source.error(), o));
    return std::nullopt;
  }
  SegmentOptions so;
  so.mode = o.mode;
  so.create = o.create;
  so.read_only = o.read_only;
  so.size = size;
  auto segment = Segment::open(*source, so);
  if (!segment) {
    startup_failure(o.source + ": " + segment_error_text(segment.error(), o));
    return std::nullopt;
  }
  return std::move(*segment);
}

}  // namespace fieldfs
