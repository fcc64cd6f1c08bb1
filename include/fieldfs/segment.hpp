// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/unique_fd.hpp"

namespace fieldfs {

/// Where the struct lives: a POSIX shared-memory object or a regular file.
struct Source {
  enum class Kind { shm, file };
  Kind kind = Kind::shm;
  std::string name;  ///< shm: the name without '/'; file: the path as given
};

/// `NAME`, `/NAME`, `shm:NAME` name a shm object; `file:PATH` or any other path with a '/' a file.
/// EINVAL: empty, or a shm name that has a '/' inside or is "." or ".."; ENAMETOOLONG: over
/// NAME_MAX.
Result<Source> parse_source(std::string_view text);

/// How to open a segment.
struct SegmentOptions {
  mode_t mode = 0600;      ///< permission bits (0777 at most) of a segment fieldfs creates
  bool create = true;      ///< create a missing segment (else ENOENT)
  bool read_only = false;  ///< open and map read-only; never create or grow
  std::uint32_t size = 0;  ///< bytes the struct needs: grown to this, never shrunk
  /// Refuse (EPERM) a segment the effective uid does not own: its owner keeps write and truncate
  /// access. fieldfs sets it (unless -o allow_foreign_owner); programs that share a segment
  /// another user created, through Mapped<T>, leave it off.
  bool owner_only = false;
};

/// The path the source opens: /dev/shm/NAME (as shm_open names it) or the file's path.
std::string source_path(const Source& source);

/// The name of the filesystem `path` is on ("procfs", "sysfs", "FUSE", ...) if it is one whose
/// files cannot hold a shared writable mapping, else "" (also when `path` cannot be examined).
std::string unsuitable_filesystem(const std::string& path);

/// A mapped segment. Loads copy each aligned 8-byte word with one atomic load, so no scalar that
/// lies inside one such word (every naturally aligned one) is torn; stores of such a scalar are
/// one atomic store or compare-and-swap. Every access past the segment's current end fails with
/// EIO (never SIGBUS).
class Segment {
 public:
  /// Opens or creates the segment, grows and allocates it to options.size, maps it; checks it
  /// before a byte is written, and removes a segment it created if it then fails.
  /// ENOENT (missing, nocreate), ELOOP (a symbolic link), EISDIR, ENODEV (not a regular file),
  /// EOPNOTSUPP (on a filesystem that cannot share a writable mapping), EPERM (owned by another
  /// user, with owner_only), ENOSPC (no room to grow), EACCES, EINVAL (size 0, or a
  /// mode beyond 0777), ENOSYS (no /proc to reopen it through).
  static Result<Segment> open(const Source& source, const SegmentOptions& options);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) = delete;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  /// Ok if the segment has at least `size` bytes now (one fstat). EIO: it is shorter.
  Result<void> holds(std::uint32_t size) const;
  /// The field's bytes (leaf.size of them): bytes(leaf.offset, leaf.size). EIO.
  Result<std::string> load(const Leaf& leaf) const;
  /// `length` bytes at `offset`, each aligned 8-byte word with one atomic load, after one check
  /// of the segment's size: an image of the struct when offset is 0 and length its size. EIO.
  Result<std::string> bytes(std::uint32_t offset, std::uint32_t length) const;
  /// Whether the segment holds exactly `expected` at `offset` now, compared word by word as
  /// bytes() loads them, without a copy (one size check). EIO.
  Result<bool> holds_bytes(std::uint32_t offset, std::string_view expected) const;
  /// Stores bytes from parse_value: an aligned 1, 2, 4 or 8-byte field with one atomic store;
  /// a bit-field's storage unit (or another field) inside one aligned 8-byte word with one
  /// compare-and-swap that keeps its neighbours; a longer range word by word (each word atomic,
  /// the whole not). EIO past the end; EROFS on a read-only segment.
  Result<void> store(const Leaf& leaf, std::string_view bytes);
  /// Flushes a file-backed segment to its file (msync); nothing to do for shm. EIO.
  Result<void> sync() const;
  /// Runs `access`, which touches the mapping directly (a sequence counter's word), so that a
  /// fault because the segment shrank under it ends it with EIO instead of SIGBUS. A fault leaves
  /// `access` by siglongjmp: what it runs must own nothing that needs destroying.
  template <typename F>
  Result<void> guard(F&& access) const {
    using A = std::remove_reference_t<F>;
    return guard_call([](void* f) { (*static_cast<A*>(f))(); },
                      const_cast<void*>(static_cast<const void*>(&access)));
  }

  /// Called with the segment's current length whenever an access fails with EIO because the
  /// segment is shorter than the access (another process shrank it), from any serving thread.
  /// Set it before the segment is shared; the daemon logs the first call.
  void on_shrink(std::function<void(std::uint64_t bytes)> report) {
    on_shrink_ = std::move(report);
  }

  std::uint32_t size() const { return size_; }
  bool created() const { return created_; }
  bool file_backed() const { return file_backed_; }
  /// The mapping itself, for tests and for programs that share the process.
  std::byte* data() const { return base_; }

 private:
  Segment(UniqueFd fd, std::byte* base, std::uint32_t size, bool created, bool file_backed,
          bool read_only);
  Result<void> check_range(std::uint64_t offset, std::uint64_t length) const;
  Result<void> guard_call(void (*access)(void*), void* context) const;
  /// EIO for an access past the segment's current end, reported through on_shrink_.
  Error shrunk() const;

  UniqueFd fd_;
  std::byte* base_ = nullptr;
  std::uint32_t size_ = 0;
  bool created_ = false;
  bool file_backed_ = false;
  bool read_only_ = false;
  std::function<void(std::uint64_t)> on_shrink_;
};

}  // namespace fieldfs
