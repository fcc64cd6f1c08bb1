// SPDX-License-Identifier: MIT
// The FUSE boundary: each op turns a request into one call on Tree and one reply.
// - Inodes are fixed by the schema, so entries and attributes are cached for a day: names and
//   modes never change, and a LOOKUP or GETATTR round trip is paid once per name.
// - Every open sets direct_io: no page cache can serve an old value, and each read at offset 0
//   reaches Tree::read, which samples afresh; later offsets continue that open file's sample, so
//   a reader that reads one byte at a time (dash's `read`) never mixes two values.
// - Read-only opens set noflush: close(2) costs no FLUSH round trip. Writers need FLUSH: an
//   incomplete value ("-" alone) fails close() with EINVAL. FLUSH comes for every close of every
//   copy of a descriptor (a forked child's exit too), so it only reports; RELEASE discards.
// - O_TRUNC arrives inside OPEN (atomic_o_trunc) and is ignored: only a write replaces a value.
// - Extended attribute ops are left out: the kernel answers ENOTSUP itself, without a round trip.
#include "daemon/fuse_ops.hpp"

#include <fuse_lowlevel.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <new>

#include "core/tree.hpp"
#include "daemon/log.hpp"

namespace fieldfs {

namespace {

constexpr double kForever = 86400.0;

Served& served_of(fuse_req_t req) { return *static_cast<Served*>(fuse_req_userdata(req)); }
Tree& tree_of(fuse_req_t req) { return served_of(req).tree; }
// fh is libfuse's 64-bit slot for our pointer.
OpenFile& file_of(fuse_file_info* fi) {
  return *reinterpret_cast<OpenFile*>(fi->fh);  // NOLINT(performance-no-int-to-ptr)
}
int err(std::errc e) { return to_errno(e); }

/// Runs `body` on the open file under its lock. The lock must be released before the reply:
/// once the client has its answer it may close, and RELEASE (on another thread) frees the file.
template <typename F>
auto locked(fuse_file_info* fi, F&& body) {
  OpenFile& f = file_of(fi);
  std::lock_guard lock(f.mutex);
  return body(f);
}

/// Runs an op body; no exception may unwind into libfuse's C frames.
template <typename F>
void guarded(fuse_req_t req, F&& body) noexcept {
  try {
    body();
  } catch (const std::bad_alloc&) {
    fuse_reply_err(req, ENOMEM);
  } catch (...) {
    static Once logged;  // requests may run on several threads
    if (logged.first()) log_line("unexpected error in a request; replying EIO");
    fuse_reply_err(req, EIO);
  }
}

void reply_entry(fuse_req_t req, const Tree& t, std::uint64_t ino) {
  fuse_entry_param e{};
  e.ino = ino;
  e.generation = 1;
  e.entry_timeout = kForever;
  e.attr_timeout = kForever;
  if (ino != 0) e.attr = t.attributes(static_cast<std::uint32_t>(ino - 1));
  fuse_reply_entry(req, &e);
}

void op_init(void* userdata, fuse_conn_info* conn) noexcept {
  auto* served = static_cast<Served*>(userdata);
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0U) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE);
  conn->max_read = served->max_read;  // libfuse insists that init() repeats -o max_read
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto ino = t.lookup(parent, name);
    if (!ino && ino.error() == std::errc::no_such_file_or_directory) {
      return reply_entry(req, t, 0);  // a negative entry, cached as long as a positive one
    }
    if (!ino) return void(fuse_reply_err(req, err(ino.error())));
    reply_entry(req, t, *ino);
  });
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto node = t.node_of(ino);
    if (!node) return void(fuse_reply_err(req, err(node.error())));
    struct stat st = t.attributes(*node);
    fuse_reply_attr(req, &st, kForever);
  });
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                fuse_file_info*) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto node = t.node_of(ino);
    if (!node) return void(fuse_reply_err(req, err(node.error())));
    if ((to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0) {
      return void(fuse_reply_err(req, EPERM));
    }
    if ((to_set & FUSE_SET_ATTR_SIZE) != 0) {
      auto ok = t.check_truncate(*node, static_cast<std::uint64_t>(attr->st_size));
      if (!ok) return void(fuse_reply_err(req, err(ok.error())));
    }
    struct stat st = t.attributes(*node);  // times are accepted and ignored, as sysfs does
    fuse_reply_attr(req, &st, kForever);
  });
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto node = t.node_of(ino);
    if (!node) return void(fuse_reply_err(req, err(node.error())));
    if (auto ok = t.check_open(*node, fi->flags); !ok) {
      return void(fuse_reply_err(req, err(ok.error())));
    }
    OpenFile* file = t.open_file(*node);
    fi->fh = reinterpret_cast<std::uint64_t>(file);
    fi->direct_io = 1;
    fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY ? 1 : 0;
    if (fuse_reply_open(req, fi) == -ENOENT) t.close_file(file);  // the opener was interrupted
  });
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) noexcept {
  guarded(req, [&] {
    auto text = locked(fi, [&](OpenFile& f) -> Result<std::string> {
      auto part = tree_of(req).read(f, static_cast<std::uint64_t>(off), size);
      if (!part) return Error{part.error()};
      return std::string(*part);
    });
    if (!text) return void(fuse_reply_err(req, err(text.error())));
    fuse_reply_buf(req, text->data(), text->size());
  });
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off,
              fuse_file_info* fi) noexcept {
  guarded(req, [&] {
    auto ok = locked(fi, [&](OpenFile& f) {
      return tree_of(req).write(f, static_cast<std::uint64_t>(off), {buf, size});
    });
    if (!ok) return void(fuse_reply_err(req, err(ok.error())));
    served_of(req).watcher.kick();
    fuse_reply_write(req, size);
  });
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) noexcept {
  guarded(req, [&] {
    auto ok = locked(fi, [&](OpenFile& f) { return tree_of(req).flush(f); });
    fuse_reply_err(req, ok ? 0 : err(ok.error()));
  });
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) noexcept {
  served_of(req).watcher.forget(file_of(fi));
  tree_of(req).close_file(&file_of(fi));
  fuse_reply_err(req, 0);
}

/// Like a sysfs attribute: always readable and writable, plus POLLPRI|POLLERR once the value
/// differs from what this open file last read.
void op_poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) noexcept {
  guarded(req, [&] {
    bool changed = served_of(req).watcher.poll(file_of(fi), ph);
    unsigned events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
    fuse_reply_poll(req, changed ? events | POLLPRI | POLLERR : events);
  });
}

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) noexcept {
  guarded(req, [&] {
    auto ok = tree_of(req).sync();
    fuse_reply_err(req, ok ? 0 : err(ok.error()));
  });
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto node = t.node_of(ino);
    if (!node) return void(fuse_reply_err(req, err(node.error())));
    if (!t.is_dir(*node)) return void(fuse_reply_err(req, ENOTDIR));
    fi->cache_readdir = 1;  // a directory's entries never change
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  });
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) noexcept {
  guarded(req, [&] {
    Tree& t = tree_of(req);
    auto node = t.node_of(ino);
    if (!node) return void(fuse_reply_err(req, err(node.error())));
    std::string buf(size, '\0');
    std::size_t used = 0;
    auto count = static_cast<off_t>(t.entry_count(*node)) + 2;
    for (off_t i = off; i < count; ++i) {  // offset i: ".", "..", then entry i - 2
      auto index = static_cast<std::uint32_t>(i - 2);
      std::uint32_t target = i == 0   ? *node
                             : i == 1 ? t.schema().node(*node).parent
                                      : t.entry(*node, index);
      const char* name = i == 0 ? "." : i == 1 ? ".." : t.name(target).c_str();
      struct stat st {};
      st.st_ino = target + 1;
      st.st_mode = t.is_dir(target) ? S_IFDIR : S_IFREG;
      std::size_t need = fuse_add_direntry(req, buf.data() + used, size - used, name, &st, i + 1);
      if (need > size - used) break;
      used += need;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

void op_statfs(fuse_req_t req, fuse_ino_t) noexcept {
  guarded(req, [&] {
    struct statvfs sv = tree_of(req).statistics();
    fuse_reply_statfs(req, &sv);
  });
}

void op_refuse_node(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_dir(fuse_req_t req, fuse_ino_t, const char*, mode_t) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_name(fuse_req_t req, fuse_ino_t, const char*) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*,
                      unsigned) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) noexcept {
  fuse_reply_err(req, EPERM);
}
void op_refuse_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) noexcept {
  fuse_reply_err(req, EPERM);
}

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};  // by assignment: g++ 12 warns on designated initializers here
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.poll = op_poll;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.statfs = op_statfs;
  ops.mknod = op_refuse_node;
  ops.mkdir = op_refuse_dir;
  ops.unlink = op_refuse_name;
  ops.rmdir = op_refuse_name;
  ops.symlink = op_refuse_symlink;
  ops.rename = op_refuse_rename;
  ops.link = op_refuse_link;
  ops.create = op_refuse_create;
  return ops;
}

}  // namespace

void notify_poll_handle(void* handle) {
  auto* ph = static_cast<fuse_pollhandle*>(handle);
  fuse_lowlevel_notify_poll(ph);
  fuse_pollhandle_destroy(ph);
}

void discard_poll_handle(void* handle) {
  fuse_pollhandle_destroy(static_cast<fuse_pollhandle*>(handle));
}

const fuse_lowlevel_ops& operations() {
  static const fuse_lowlevel_ops ops = make_ops();
  return ops;
}

}  // namespace fieldfs
