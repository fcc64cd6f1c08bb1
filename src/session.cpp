// SPDX-License-Identifier: MIT
// The session's life: libfuse is given our -o options, mounts, detaches, runs the request loop
// and unmounts. libfuse's own messages are routed through one log function so that every line
// a user sees starts with "fieldfs: ".
#include "session.hpp"

#include <fuse_lowlevel.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "fuse_ops.hpp"

namespace fieldfs {

namespace {

[[gnu::format(printf, 2, 0)]] void log_line(enum fuse_log_level level, const char* fmt,
                                            va_list ap) {
  if (level > FUSE_LOG_ERR) {
    std::vfprintf(stderr, fmt, ap);  // debug output (-d) stays as libfuse wrote it
    return;
  }
  std::fputs("fieldfs: ", stderr);
  std::vfprintf(stderr, fmt, ap);
}

std::string escape_commas(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ',' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

/// The argv libfuse parses: our FUSE options, with fsname= and subtype= unless given.
std::vector<std::string> fuse_argv(const Options& o) {
  std::string opts = "fsname=" + escape_commas(o.source) +
                     ",subtype=fieldfs,max_read=" + std::to_string(o.max_read);
  for (const auto& f : o.fuse_options) opts += "," + f;
  std::vector<std::string> argv{"fieldfs", "-o", opts};
  if (o.debug) argv.emplace_back("-d");
  return argv;
}

int run_loop(fuse_session* se, const Options& o) {
  if (o.single_thread || o.threads <= 1) return fuse_session_loop(se);
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, o.threads);
  fuse_loop_cfg_set_idle_threads(config, o.threads);
  int r = fuse_session_loop_mt(se, config);
  fuse_loop_cfg_destroy(config);
  return r;
}

}  // namespace

int serve(Tree& tree, const Options& o) {
  fuse_set_log_func(log_line);
  auto strings = fuse_argv(o);
  std::vector<char*> argv;
  argv.reserve(strings.size());
  for (auto& s : strings) argv.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  Watcher watcher(tree, std::chrono::milliseconds(o.poll_ms), notify_poll_handle,
                  discard_poll_handle);
  Served served{tree, o.max_read, watcher};
  fuse_session* se = fuse_session_new(&args, &operations(), sizeof(fuse_lowlevel_ops), &served);
  fuse_opt_free_args(&args);
  if (se == nullptr) return 1;
  int status = 1;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, o.mountpoint.c_str()) == 0) {
      fuse_daemonize(o.foreground ? 1 : 0);
      watcher.start();
      status = run_loop(se, o) < 0 ? 1 : 0;  // > 0: the signal that stopped it
      watcher.stop();
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  return status;
}

}  // namespace fieldfs

namespace fieldfs {

const char* fuse_version_text() { return fuse_pkgversion(); }

}  // namespace fieldfs
