// SPDX-License-Identifier: MIT
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/samples.hpp"
#include "core/sections.hpp"
#include "core/views.hpp"
#include "core/writer.hpp"
#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

namespace fieldfs {

/// One open() of a field file: its read sample and what it has written so far.
struct OpenFile {
  std::uint32_t node = 0;
  std::mutex mutex;  ///< a descriptor may be shared by threads of the client
  /// The bytes the last read at offset 0 (or the first poll) was taken from: the field's bytes,
  /// or the struct's image for .raw and .json; null before. Pollers compare against it.
  Sample basis;
  /// The text later offsets continue (made from basis, shared with other opens of the same
  /// bytes); dropped once read to its end, and made again from basis if read again.
  Sample sample;
  std::size_t sample_size = 0;  ///< of the text made from basis
  WriteCollector writer;
  RawCollector raw;
  JsonCollector json;
};

/// The hidden files at the root (SPEC §3), numbered after the schema's nodes; `status` (.etcd)
/// only while the mount replicates (-o etcd=, SPEC §9).
enum class View : std::uint8_t { raw, json, schema, status };
inline constexpr std::uint32_t kViewCount = 4;

/// Who owns the mount's files and which permission bits are masked (SPEC §1 `uid=`, `gid=`,
/// `umask=`): writable fields, .raw and .json are 0666 & ~umask; const fields, .schema and every
/// file of a read-only mount 0444 & ~umask; directories 0777 & ~umask.
struct Ownership {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t umask = 022;
  /// The calling process's user and group, with umask 022 (0644, 0444, 0755).
  static Ownership of_process();
};

/// How reads and writes through the mount keep the struct one state (SPEC §8, §5).
struct Consistency {
  std::optional<std::uint32_t> counter;  ///< -o seq=: the counter's node (find_counter)
  std::chrono::milliseconds bound = SeqLock::kDefaultBound;  ///< -o seq_wait_ms=
};

/// Where a checked write through the mount goes: by default the local segment, in one section;
/// with -o etcd=, the fleet's etcd first (src/replica), then the local segment.
class Writes {
 public:
  virtual ~Writes() = default;
  /// Stores `stores` as one write. `expected`: a compare-and-set on the counter (SPEC §8), which
  /// is EAGAIN when the counter (or the fleet's state) moved. EIO, EROFS.
  virtual Result<void> commit(const std::vector<FieldStore>& stores,
                              std::optional<std::uint64_t> expected) = 0;
};

/// The mounted tree over a segment, in terms of inodes and errno values: everything the FUSE
/// boundary needs, without FUSE. Inode = node index + 1; the root is inode 1.
class Tree {
 public:
  /// A tree over `segment` laid out by `schema`; its files are `owner`'s, with its umask.
  /// Every read through it is one consistent snapshot and every write one section (Sections).
  Tree(const Schema& schema, Segment& segment, bool read_only,
       Ownership owner = Ownership::of_process(), const Consistency& consistency = {});

  const Schema& schema() const { return schema_; }
  /// Schema nodes, then the views.
  std::uint32_t node_total() const { return schema_.node_count() + view_count(); }
  /// How many views the root has: .raw, .json, .schema, and .etcd while replicating.
  std::uint32_t view_count() const { return status_ ? kViewCount : kViewCount - 1; }
  /// Shows `status` (called at each read at offset 0) as .etcd, a 0444 file at the root.
  void show_status(std::function<std::string()> status) { status_ = std::move(status); }
  /// Which view a node is, if it is one.
  std::optional<View> view_of(std::uint32_t node) const;
  bool is_dir(std::uint32_t node) const;
  const std::string& name(std::uint32_t node) const;
  /// A directory's entries in readdir order: its children, and at the root the views.
  std::uint32_t entry_count(std::uint32_t dir) const;
  std::uint32_t entry(std::uint32_t dir, std::uint32_t index) const;
  /// The node behind an inode. ENOENT for an inode the schema does not have.
  Result<std::uint32_t> node_of(std::uint64_t ino) const;
  /// The child's inode. ENOTDIR, ENOENT.
  Result<std::uint64_t> lookup(std::uint64_t parent, std::string_view name) const;
  /// Attributes: fixed modes, owner, times; st_size of a field and of .json an upper bound of
  /// what a read returns, never below 4096 (as sysfs); of .raw and .schema exact.
  struct stat attributes(std::uint32_t node) const;
  struct statvfs statistics() const;

  /// Sends every write through `writes` from now on (null: the local segment).
  void route_writes(Writes* writes) { writes_ = writes; }
  /// A checked write: through route_writes' Writes, or one local section.
  Result<void> commit(const std::vector<FieldStore>& stores, std::optional<std::uint64_t> expected);

  /// The sections every access goes through (the counter, for the watcher and the log).
  Sections& sections() { return sections_; }
  const Sections& sections() const { return sections_; }

  /// open(): EISDIR, EACCES (const field or the counter opened for writing), EROFS (ro mount).
  Result<void> check_open(std::uint32_t node, int flags) const;
  /// A new open file of `node`, owned by the tree until close_file (or the tree's end: files
  /// still open when the daemon stops never see a RELEASE).
  OpenFile* open_file(std::uint32_t node);
  void close_file(OpenFile* file);
  /// truncate: to 0 changes nothing; any other size EINVAL; EACCES const, EISDIR dirs.
  Result<void> check_truncate(std::uint32_t node, std::uint64_t size) const;
  /// The bytes a read of `node` would be taken from now: the field's bytes, or for .raw and
  /// .json the struct's image (one size check; shared with the last image when equal). EIO;
  /// ENOMEM: the samples of all open files would exceed kSampleBudget.
  Result<Sample> current_bytes(std::uint32_t node) const;
  /// The text a read shows for `basis` (a .json rendering is made once per image). EIO, ENOMEM.
  Result<Sample> text_of(std::uint32_t node, const Sample& basis) const;
  /// Whether the segment still holds `basis`, the bytes current_bytes(node) gave: compared in
  /// place, no copy. False if it cannot be read.
  bool unchanged(std::uint32_t node, const std::string& basis) const;
  /// Whether a file that read `then` would read another value from `now`: bytes first, text
  /// only when they differ (padding, a string's bytes after its NUL, a bit-field's neighbours).
  bool differs(std::uint32_t node, const Sample& then, const Sample& now) const;
  /// A read of `file` at `offset`: offset 0 samples afresh, later offsets continue the sample.
  /// EIO; ENOMEM: a new sample would exceed kSampleBudget.
  Result<std::string> read(OpenFile& file, std::uint64_t offset, std::size_t size) const;
  /// A write of `file` at `offset`, stored once the collected text is a value, as one section.
  /// EINVAL, ERANGE, EFBIG (nothing stored), EIO (segment shrunk); EAGAIN (the counter stayed odd;
  /// a .json write naming the counter or a .raw write whose counter is not the current one).
  Result<void> write(OpenFile& file, std::uint64_t offset, std::string_view data);
  /// Each close() of a descriptor of `file` (forked copies too): EINVAL while a partial value
  /// is pending. It stays pending, so another copy may complete it; close_file discards it.
  Result<void> flush(const OpenFile& file) const;
  /// fsync(): msync of a file-backed segment.
  Result<void> sync() const { return segment_.sync(); }

 private:
  const Schema& schema_;
  Segment& segment_;
  bool read_only_;
  Ownership owner_;
  /// Whether `node`'s file may be opened for writing on a writable mount.
  bool writable(std::uint32_t node) const;
  Result<void> write_view(OpenFile& file, View view, std::uint64_t offset, std::string_view data);
  /// A whole .raw image, as one section: a compare-and-set on the image's counter with -o seq=.
  Result<void> store_image(std::string_view image);
  /// A complete .json document's stores, as one section: compare-and-set if it names the counter.
  Result<void> store_document(std::vector<FieldStore> stores);

  std::string schema_text_;  ///< .schema: fixed for the life of the mount
  std::size_t json_size_;    ///< st_size of .json
  std::size_t json_limit_;   ///< most text a .json write may collect
  Sample schema_sample_;     ///< the same, as every open .schema reads it
  mutable SampleStore samples_;
  Sections sections_;
  Writes* writes_ = nullptr;
  std::function<std::string()> status_;
  struct timespec start_ {};
  std::mutex files_mutex_;
  std::unordered_map<OpenFile*, std::unique_ptr<OpenFile>> files_;
};

}  // namespace fieldfs
