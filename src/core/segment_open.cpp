// SPDX-License-Identifier: MIT
// Opening a segment safely: a planted symlink, a FIFO or a device, a file on a filesystem that
// cannot share a writable mapping, or one another user owns is refused before anything is opened
// for writing; a segment fieldfs creates gets exactly `mode`, whatever the umask, and is removed
// again if it cannot be allocated; growth allocates the space (fallocate) so a full tmpfs fails
// here rather than with SIGBUS later.
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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

struct Filesystem {
  unsigned long magic;
  const char* name;
};

/// Filesystems whose files cannot hold a shared writable mapping: another FUSE daemon's files,
/// and the kernel's pseudo filesystems, whose files are computed on read and act on write.
constexpr Filesystem kUnsuitable[] = {{PROC_SUPER_MAGIC, "procfs"},
                                      {SYSFS_MAGIC, "sysfs"},
                                      {FUSE_SUPER_MAGIC, "FUSE"},
                                      {0x65735543, "fusectl"},
                                      {DEBUGFS_MAGIC, "debugfs"},
                                      {TRACEFS_MAGIC, "tracefs"},
                                      {SECURITYFS_MAGIC, "securityfs"},
                                      {SELINUX_MAGIC, "selinuxfs"},
                                      {SMACK_MAGIC, "smackfs"},
                                      {CGROUP_SUPER_MAGIC, "cgroup"},
                                      {CGROUP2_SUPER_MAGIC, "cgroup2"},
                                      {0x62656570, "configfs"},
                                      {DEVPTS_SUPER_MAGIC, "devpts"},
                                      {PSTOREFS_MAGIC, "pstore"},
                                      {EFIVARFS_MAGIC, "efivarfs"},
                                      {BPF_FS_MAGIC, "bpf"},
                                      {BINFMTFS_MAGIC, "binfmt_misc"},
                                      {0x19800202, "mqueue"},
                                      {NSFS_MAGIC, "nsfs"},
                                      {AUTOFS_SUPER_MAGIC, "autofs"},
                                      {0x67596969, "rpc_pipefs"}};

const char* unsuitable(const struct statfs& fs) {
  for (const auto& f : kUnsuitable) {
    if (static_cast<unsigned long>(fs.f_type) == f.magic) return f.name;
  }
  return nullptr;
}

/// The kind of an existing path, refused unless it is a regular file.
Result<void> check_regular(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return {};
  if (S_ISLNK(st.st_mode)) return fail(std::errc::too_many_symbolic_link_levels);
  if (S_ISDIR(st.st_mode)) return fail(std::errc::is_a_directory);
  return fail(std::errc::no_such_device);
}

/// EOPNOTSUPP if `fd` (a file or a directory) is on a filesystem in kUnsuitable.
Result<void> check_filesystem(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return fail_errno(errno);
  if (unsuitable(fs) != nullptr) return fail(std::errc::operation_not_supported);
  return {};
}

/// Refuses what must not be written: not a regular file, on an unsuitable filesystem, or owned
/// by another user when options ask for owner_only (EPERM).
Result<void> check_file(int fd, const SegmentOptions& o) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail_errno(errno);
  if (auto ok = check_regular(st); !ok) return ok;
  if (auto ok = check_filesystem(fd); !ok) return ok;
  if (o.owner_only && st.st_uid != ::geteuid()) {
    return fail(std::errc::operation_not_permitted);
  }
  return {};
}

/// The directory a segment lives in (an O_PATH descriptor) and its name there.
struct Place {
  UniqueFd dir;
  std::string name;
};

Result<Place> place_of(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return fail(std::errc::is_a_directory);
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno);
  return Place{UniqueFd(fd), std::move(name)};
}

int access_flags(const SegmentOptions& o) { return (o.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC; }

/// Opens the existing segment: first without access (O_PATH, which opens neither a FIFO nor a
/// device), checks that, then reopens that same inode through /proc/self/fd for reading and
/// writing. ENOENT if it is missing; ENOSYS without /proc.
Result<UniqueFd> open_existing(const Place& at, const SegmentOptions& o) {
  int path_fd = ::openat(at.dir.get(), at.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (path_fd < 0) return fail_errno(errno);
  UniqueFd checked(path_fd);
  if (auto ok = check_file(path_fd, o); !ok) return Error{ok.error()};
  std::string self = "/proc/self/fd/" + std::to_string(path_fd);
  int fd = ::open(self.c_str(), access_flags(o));
  // ENOENT here is not a missing segment (which would then be created): /proc is not mounted.
  if (fd < 0) return errno == ENOENT ? fail(std::errc::function_not_supported) : fail_errno(errno);
  return UniqueFd(fd);
}

/// Opens the segment, creating it with exactly `mode` if allowed and missing.
Result<UniqueFd> open_fd(const Place& at, const SegmentOptions& o, bool& created) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto existing = open_existing(at, o);
    if (existing || existing.error() != std::errc::no_such_file_or_directory) return existing;
    if (!o.create || o.read_only) return existing;
    if (auto ok = check_filesystem(at.dir.get()); !ok) return Error{ok.error()};
    int fd = ::openat(at.dir.get(), at.name.c_str(),
                      access_flags(o) | O_CREAT | O_EXCL | O_NOFOLLOW, o.mode);
    if (fd < 0 && errno == EEXIST) continue;  // created by someone else meanwhile: check it
    if (fd < 0) return fail_errno(errno);
    created = true;
    UniqueFd owned(fd);
    if (::fchmod(fd, o.mode) != 0) return fail_errno(errno);
    return owned;
  }
  return fail(std::errc::file_exists);
}

/// Grows the segment to `size` and allocates it, so that a full filesystem fails here, not with
/// SIGBUS later. fallocate(2) itself: glibc's posix_fallocate falls back to writing a byte into
/// every block. Where the filesystem has no fallocate, ftruncate alone grows it (unallocated).
Result<void> grow(int fd, off_t size) {
  int rc = 0;
  while ((rc = ::fallocate(fd, 0, 0, size)) != 0 && errno == EINTR) {
  }
  if (rc == 0) return {};
  if (errno != EOPNOTSUPP && errno != ENOSYS) return fail_errno(errno);
  if (::ftruncate(fd, size) != 0) return fail_errno(errno);
  return {};
}

/// Grows the open segment if it is short, and maps it. EOPNOTSUPP if it cannot be mapped.
Result<std::byte*> map_segment(int fd, const SegmentOptions& o) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail_errno(errno);
  if (!o.read_only && st.st_size < static_cast<off_t>(o.size)) {
    if (auto ok = grow(fd, static_cast<off_t>(o.size)); !ok) return Error{ok.error()};
  }
  int prot = PROT_READ | (o.read_only ? 0 : PROT_WRITE);
  void* base = ::mmap(nullptr, o.size, prot, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    return errno == ENODEV ? fail(std::errc::operation_not_supported) : fail_errno(errno);
  }
  return static_cast<std::byte*>(base);
}

/// Removes the segment this call created, if its name still names it.
void remove_created(const Place& at, int fd) {
  struct stat mine {};
  struct stat named {};
  if (::fstat(fd, &mine) == 0 &&
      ::fstatat(at.dir.get(), at.name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      mine.st_dev == named.st_dev && mine.st_ino == named.st_ino) {
    ::unlinkat(at.dir.get(), at.name.c_str(), 0);
  }
}

}  // namespace

std::string source_path(const Source& source) {
  return source.kind == Source::Kind::shm ? "/dev/shm/" + source.name : source.name;
}

std::string unsuitable_filesystem(const std::string& path) {
  struct statfs fs {};
  const char* name = ::statfs(path.c_str(), &fs) == 0 ? unsuitable(fs) : nullptr;
  return name != nullptr ? name : "";
}

Result<Segment> Segment::open(const Source& source, const SegmentOptions& o) {
  if (o.size == 0 || (o.mode & ~mode_t{0777}) != 0) return fail(std::errc::invalid_argument);
  auto at = place_of(source_path(source));
  if (!at) return Error{at.error()};
  bool created = false;
  auto fd = open_fd(*at, o, created);
  if (!fd) return Error{fd.error()};
  auto base = map_segment(fd->get(), o);
  if (!base) {
    if (created) remove_created(*at, fd->get());
    return Error{base.error()};
  }
  return Segment(std::move(*fd), *base, o.size, created, source.kind == Source::Kind::file,
                 o.read_only);
}

}  // namespace fieldfs
