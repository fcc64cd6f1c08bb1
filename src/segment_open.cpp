// SPDX-License-Identifier: MIT
// Opening a segment safely: a planted symlink, a FIFO or a device is refused before anything is
// opened for writing; a segment fieldfs creates gets exactly `mode`, whatever the umask; growth
// allocates the space (posix_fallocate) so a full tmpfs fails here rather than with SIGBUS later.
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>

#include "fieldfs/segment.hpp"

namespace fieldfs {

Result<Source> parse_source(std::string_view text) {
  Source s;
  if (text.starts_with("file:")) {
    s.kind = Source::Kind::file;
    s.name = text.substr(5);
    if (s.name.empty()) return fail(std::errc::invalid_argument);
    return s;
  }
  bool explicit_shm = text.starts_with("shm:");
  std::string_view name = explicit_shm ? text.substr(4) : text;
  if (name.starts_with('/')) name.remove_prefix(1);
  if (name.find('/') != std::string_view::npos) {
    if (explicit_shm || text.starts_with("//")) return fail(std::errc::invalid_argument);
    s.kind = Source::Kind::file;
    s.name = text;
    return s;
  }
  if (name.empty() || name == "." || name == "..") return fail(std::errc::invalid_argument);
  if (name.size() > NAME_MAX) return fail(std::errc::filename_too_long);
  s.name = name;
  return s;
}

namespace {

/// The kind of an existing path, refused unless it is a regular file. ENOENT if missing.
Result<void> check_regular(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return {};
  if (S_ISLNK(st.st_mode)) return fail(std::errc::too_many_symbolic_link_levels);
  if (S_ISDIR(st.st_mode)) return fail(std::errc::is_a_directory);
  return fail(std::errc::no_such_device);
}

int open_flags(const SegmentOptions& o) {
  return (o.read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
}

/// Opens `name` (shm) or `path` (file), creating it with exactly `mode` if allowed and missing.
Result<UniqueFd> open_fd(const Source& source, const SegmentOptions& o, bool& created) {
  auto do_open = [&](int flags) {
    return source.kind == Source::Kind::shm ? ::shm_open(source.name.c_str(), flags, o.mode)
                                            : ::open(source.name.c_str(), flags, o.mode);
  };
  if (source.kind == Source::Kind::file) {
    struct stat st {};
    if (::lstat(source.name.c_str(), &st) == 0) {
      if (auto ok = check_regular(st); !ok) return Error{ok.error()};
    } else if (errno != ENOENT) {
      return fail_errno(errno);
    }
  }
  if (o.create && !o.read_only) {
    int fd = do_open(open_flags(o) | O_CREAT | O_EXCL);
    if (fd >= 0) {
      created = true;
      UniqueFd owned(fd);
      if (::fchmod(fd, o.mode) != 0) return fail_errno(errno);
      return owned;
    }
    if (errno != EEXIST) return fail_errno(errno);
  }
  int fd = do_open(open_flags(o));
  if (fd < 0) return fail_errno(errno);
  return UniqueFd(fd);
}

}  // namespace

Result<Segment> Segment::open(const Source& source, const SegmentOptions& o) {
  bool created = false;
  auto fd = open_fd(source, o, created);
  if (!fd) return Error{fd.error()};
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return fail_errno(errno);
  if (auto ok = check_regular(st); !ok) return Error{ok.error()};
  if (!o.read_only && st.st_size < static_cast<off_t>(o.size)) {
    int e = ::posix_fallocate(fd->get(), 0, static_cast<off_t>(o.size));
    if (e != 0) {
      if (created) (void)::ftruncate(fd->get(), 0);
      return fail_errno(e);
    }
  }
  int prot = PROT_READ | (o.read_only ? 0 : PROT_WRITE);
  void* base = ::mmap(nullptr, o.size, prot, MAP_SHARED, fd->get(), 0);
  if (base == MAP_FAILED) return fail_errno(errno);
  return Segment(std::move(*fd), static_cast<std::byte*>(base), o.size, created,
                 source.kind == Source::Kind::file, o.read_only);
}

}  // namespace fieldfs
