// SPDX-License-Identifier: MIT
// The floor: a libfuse low-level filesystem that does nothing, set up as fieldfs is, so that
// the benchmark can tell the cost of a FUSE round trip from the cost of fieldfs itself.
// One file, "value", reads "0\n" and accepts any write. Like fieldfs: direct_io on every open,
// noflush for read-only opens, O_TRUNC inside OPEN (atomic_o_trunc), no splice, day-long entry
// and attribute timeouts, and max_read of one page (libfuse wants -o max_read=N repeated as
// conn->max_read in init).
//
// With -o cache=open|noopen,segment=PATH it is instead the page-cache prototype of issue 6:
// "value" shows the int at offset 0 of the file PATH (a fieldfs segment), read-only, served
// from the kernel's page cache, and a thread samples the int every poll_us (default 10000) and
// invalidates the file's cache (fuse_lowlevel_notify_inval_inode) when it has changed, as
// fieldfs's Watcher would. cache=open keeps OPEN (keep_cache, noflush: OPEN and RELEASE still
// reach the daemon); cache=noopen answers OPEN and FLUSH with ENOSYS, so that the kernel stops
// sending them and open + read + close never leaves the kernel once the page is cached.
//
//     null_fs [-f] [-s] [-d] [-o cache=open|noopen,segment=PATH[,poll_us=N]] MOUNTPOINT
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NULL_FS_MAX_READ 4096
#define NULL_FS_FOREVER 86400.0

enum cache_mode { FLOOR, CACHE_OPEN, CACHE_NOOPEN };

/// The filesystem's state, passed as the session's userdata; all zero for the floor.
struct proto {
  enum cache_mode mode;
  const _Atomic int* value;  // the segment's first int
  unsigned poll_us;
  struct fuse_session* se;
  pthread_t sampler;
  atomic_bool stop;
};

static const struct proto* proto_of(fuse_req_t req) { return fuse_req_userdata(req); }

static const char kValue[] = "0\n";
static const char kName[] = "value";

static void fill_stat(const struct proto* p, fuse_ino_t ino, struct stat* st) {
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_uid = getuid();
  st->st_gid = getgid();
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | (p->mode == FLOOR ? 0644 : 0444);
    st->st_nlink = 1;
    st->st_size = 4096;  // an upper bound, as fieldfs and sysfs report
  }
}

static void null_init(void* userdata, struct fuse_conn_info* conn) {
  const struct proto* p = userdata;
  if (p->mode == FLOOR && (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)) {
    conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  }
  conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE);
  conn->max_read = NULL_FS_MAX_READ;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.entry_timeout = NULL_FS_FOREVER;
  e.attr_timeout = NULL_FS_FOREVER;
  if (parent == FUSE_ROOT_ID && strcmp(name, kName) == 0) {
    e.ino = 2;
    e.generation = 1;
    fill_stat(proto_of(req), e.ino, &e.attr);
  }
  fuse_reply_entry(req, &e);  // ino 0: a cached negative entry
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  struct stat st;
  (void)fi;
  if (ino != FUSE_ROOT_ID && ino != 2) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  fill_stat(proto_of(req), ino, &st);
  fuse_reply_attr(req, &st, NULL_FS_FOREVER);
}

static void null_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                         struct fuse_file_info* fi) {
  (void)attr;
  (void)to_set;
  null_getattr(req, ino, fi);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  if (ino != 2) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  const struct proto* p = proto_of(req);
  if (p->mode == CACHE_NOOPEN) {
    fuse_reply_err(req, ENOSYS);  // the kernel stops sending OPEN, and opens keep the cache
    return;
  }
  fi->direct_io = p->mode == FLOOR;
  fi->keep_cache = p->mode == CACHE_OPEN;
  fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
  fuse_reply_open(req, fi);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info* fi) {
  const struct proto* p = proto_of(req);
  char text[16];
  const char* value = kValue;
  size_t len = sizeof kValue - 1;
  (void)ino;
  (void)fi;
  if (p->mode != FLOOR) {
    len = (size_t)snprintf(text, sizeof text, "%d\n", atomic_load(p->value));
    value = text;
  }
  if (off < 0 || (size_t)off >= len) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  len -= (size_t)off;
  fuse_reply_buf(req, value + off, len < size ? len : size);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
                       struct fuse_file_info* fi) {
  (void)ino;
  (void)buf;
  (void)off;
  (void)fi;
  if (proto_of(req)->mode != FLOOR) {
    fuse_reply_err(req, EROFS);
    return;
  }
  fuse_reply_write(req, size);
}

static void null_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

static void null_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  (void)ino;
  (void)fi;
  // ENOSYS: the kernel sends no FLUSH from now on.
  fuse_reply_err(req, proto_of(req)->mode == CACHE_NOOPEN ? ENOSYS : 0);
}

static void null_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* fi) {
  (void)datasync;
  null_ok(req, ino, fi);
}

static void add_entry(fuse_req_t req, char* buf, size_t size, size_t* used, const char* name,
                      fuse_ino_t ino, off_t next) {
  struct stat st;
  fill_stat(fuse_req_userdata(req), ino, &st);
  size_t need = fuse_add_direntry(req, buf + *used, size - *used, name, &st, next);
  if (*used + need <= size) *used += need;
}

static void null_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info* fi) {
  char buf[512];
  size_t used = 0;
  (void)fi;
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  if (size > sizeof buf) size = sizeof buf;
  if (off < 1) add_entry(req, buf, size, &used, ".", FUSE_ROOT_ID, 1);
  if (off < 2) add_entry(req, buf, size, &used, "..", FUSE_ROOT_ID, 2);
  if (off < 3) add_entry(req, buf, size, &used, kName, 2, 3);
  fuse_reply_buf(req, buf, used);
}

static void set_operations(struct fuse_lowlevel_ops* ops) {
  memset(ops, 0, sizeof *ops);
  ops->init = null_init;
  ops->lookup = null_lookup;
  ops->getattr = null_getattr;
  ops->setattr = null_setattr;
  ops->open = null_open;
  ops->read = null_read;
  ops->write = null_write;
  ops->flush = null_flush;
  ops->release = null_ok;
  ops->fsync = null_fsync;
  ops->readdir = null_readdir;
}

/// The prototype's sampler: invalidates the file's page cache and attributes once the int has
/// changed. Outside any request, as the kernel requires of notifications.
static void* sample(void* arg) {
  struct proto* p = arg;
  int last = atomic_load(p->value);
  while (!atomic_load(&p->stop)) {
    int now = atomic_load(p->value);
    if (now != last) {
      last = now;
      fuse_lowlevel_notify_inval_inode(p->se, 2, 0, 0);
    }
    usleep(p->poll_us);
  }
  return NULL;
}

static int loop(struct fuse_session* se, const struct fuse_cmdline_opts* opts) {
  if (opts->singlethread) return fuse_session_loop(se) < 0;
  struct fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, 10);
  int status = fuse_session_loop_mt(se, config) < 0;
  fuse_loop_cfg_destroy(config);
  return status;
}

static int run(struct proto* p, struct fuse_args* args, const struct fuse_cmdline_opts* opts) {
  struct fuse_lowlevel_ops ops;
  int status = 1;
  set_operations(&ops);
  struct fuse_session* se = fuse_session_new(args, &ops, sizeof ops, p);
  if (se == NULL) return 1;
  p->se = se;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, opts->mountpoint) == 0) {
      fuse_daemonize(opts->foreground);
      int sampling = p->mode != FLOOR && pthread_create(&p->sampler, NULL, sample, p) == 0;
      status = loop(se, opts);
      if (sampling) {
        atomic_store(&p->stop, 1);
        pthread_join(p->sampler, NULL);
      }
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  return status;
}

struct proto_options {
  char* cache;
  char* segment;
  unsigned poll_us;
};

static const struct fuse_opt kProtoOptions[] = {
    {"cache=%s", offsetof(struct proto_options, cache), 0},
    {"segment=%s", offsetof(struct proto_options, segment), 0},
    {"poll_us=%u", offsetof(struct proto_options, poll_us), 0},
    FUSE_OPT_END};

/// Sets up the prototype from -o cache=,segment=,poll_us=; 0 when it is the floor.
static int set_up_prototype(struct proto* p, const struct proto_options* po) {
  if (po->cache == NULL) return 0;
  p->mode = strcmp(po->cache, "open") == 0     ? CACHE_OPEN
            : strcmp(po->cache, "noopen") == 0 ? CACHE_NOOPEN
                                               : FLOOR;
  if (p->mode == FLOOR || po->segment == NULL) {
    fprintf(stderr, "null_fs: -o cache= takes open or noopen, and needs segment=PATH\n");
    return -1;
  }
  int fd = open(po->segment, O_RDONLY);
  void* map = fd < 0 ? MAP_FAILED : mmap(NULL, sizeof(int), PROT_READ, MAP_SHARED, fd, 0);
  if (fd >= 0) close(fd);
  if (map == MAP_FAILED) {
    perror(po->segment);
    return -1;
  }
  p->value = (const _Atomic int*)map;
  p->poll_us = po->poll_us != 0 ? po->poll_us : 10000;
  return 0;
}

int main(int argc, char* argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts opts;
  struct proto_options po = {NULL, NULL, 0};
  struct proto p = {.mode = FLOOR};
  int status = 1;
  if (fuse_opt_parse(&args, &po, kProtoOptions, NULL) != 0) return 1;
  if (fuse_parse_cmdline(&args, &opts) != 0) return 1;
  if (opts.show_help || opts.mountpoint == NULL) {
    printf("usage: %s [-f] [-s] [-d] [-o cache=open|noopen,segment=PATH[,poll_us=N]] MOUNTPOINT\n",
           argv[0]);
    status = opts.show_help ? 0 : 1;
  } else if (set_up_prototype(&p, &po) == 0 &&
             fuse_opt_add_arg(&args, "-omax_read=4096,fsname=null_fs,subtype=null_fs") == 0) {
    status = run(&p, &args, &opts);
  }
  free(opts.mountpoint);
  free(po.cache);
  free(po.segment);
  fuse_opt_free_args(&args);
  return status;
}
