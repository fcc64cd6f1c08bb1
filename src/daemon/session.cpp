// SPDX-License-Identifier: MIT
// The session's life: libfuse is given our -o options, mounts, detaches, tells the service
// manager the mount is there, runs the request loop and unmounts. libfuse's own messages are
// routed through log_line, so that every line a user sees starts with "fieldfs: " (and reaches
// syslog once the daemon has detached).
#include "daemon/session.hpp"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/fuse_ops.hpp"
#include "daemon/log.hpp"
#include "daemon/mountpoint.hpp"
#include "daemon/notify.hpp"
#include "daemon/options.hpp"
#include "daemon/startup.hpp"

namespace fieldfs {

namespace {

/// What libfuse has logged on this thread since its last newline.
thread_local std::string pending;

/// Prints what a message without its newline left behind (libfuse's last words on a failure).
void flush_log() {
  if (!pending.empty()) log_line(pending);
  pending.clear();
}

/// libfuse writes a line in several calls (`unknown option(s): `, then each option, then `'`):
/// the pieces are collected per thread up to the newline and printed as one line.
[[gnu::format(printf, 2, 0)]] void log_from_libfuse(enum fuse_log_level level, const char* fmt,
                                                    va_list ap) {
  if (level > FUSE_LOG_ERR) {
    std::vfprintf(stderr, fmt, ap);  // debug output (-d) stays as libfuse wrote it
    return;
  }
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return;
  std::string piece(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(piece.data(), piece.size(), fmt, ap);
  piece.pop_back();
  pending += piece;
  for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
    log_line(std::string_view(pending).substr(0, nl));
    pending.erase(0, nl + 1);
  }
}

/// fuse_session_mount with stderr captured: fusermount3, which libfuse runs for a user, writes
/// its refusal there without our prefix; each captured line goes through log_line.
bool mount_relaying_stderr(fuse_session* se, const std::string& path) {
  int saved = ::dup(STDERR_FILENO);
  int capture = ::memfd_create("fieldfs-mount", MFD_CLOEXEC);
  if (saved < 0 || capture < 0 || ::dup2(capture, STDERR_FILENO) < 0) {
    if (saved >= 0) ::close(saved);
    if (capture >= 0) ::close(capture);
    return fuse_session_mount(se, path.c_str()) == 0;
  }
  bool mounted = fuse_session_mount(se, path.c_str()) == 0;
  flush_log();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string text;
  char buf[4096];
  ssize_t got = 0;
  for (off_t at = 0; (got = ::pread(capture, buf, sizeof buf, at)) > 0; at += got) {
    text.append(buf, static_cast<std::size_t>(got));
  }
  ::close(capture);
  for (std::size_t start = 0; start < text.size();) {
    auto nl = std::min(text.find('\n', start), text.size());
    log_line(std::string_view(text).substr(start, nl - start));
    start = nl + 1;
  }
  return mounted;
}

/// The argv libfuse parses: our FUSE options, with fsname= and subtype= unless given (a later
/// fsname= wins). The fsname is what /proc/mounts and findmnt show as the source: the segment,
/// named so that it names the same one from any directory (segment_label).
std::vector<std::string> fuse_argv(const Options& o) {
  std::vector<std::string> items{"fsname=" + segment_label(o.source), "subtype=fieldfs",
                                 "max_read=" + std::to_string(o.max_read)};
  items.insert(items.end(), o.fuse_options.begin(), o.fuse_options.end());
  std::string opts = join_options(items);
  std::vector<std::string> argv{"fieldfs", "-o", opts};
  if (o.debug) argv.emplace_back("-d");
  return argv;
}

/// Runs `body` with every signal blocked, so that the threads it starts inherit that mask and
/// signals go to the loop's thread.
template <typename F>
void with_signals_blocked(F&& body) {
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  body();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

/// SIGTERM, SIGINT and SIGHUP stop the loop in bounded time. libfuse 3.14's own handlers only
/// set the session's exit flag, which its loop checks before each blocking read of /dev/fuse:
/// a signal that lands between the check and the read leaves the daemon blocked until the next
/// request, perhaps for ever (libfuse issue #997). So the handler also posts a semaphore, and a
/// thread that waits on it interrupts the loop's thread with SIGUSR1 (a handler that does
/// nothing, without SA_RESTART: the read fails with EINTR) every 10 ms until the loop returns.
/// At rest that thread sleeps in sem_wait. SIGPIPE is ignored, as libfuse's handlers do.
class StopSignals {
 public:
  explicit StopSignals(fuse_session* se) {
    session_ = se;
    stopped_by_ = 0;
    sem_init(&stop_, 0, 0);
    const std::array<void (*)(int), kSignals.size()> handlers{on_stop, on_stop, on_stop, on_nudge,
                                                              SIG_IGN};
    while (installed_ < kSignals.size() && install(kSignals[installed_], handlers[installed_])) {
      ++installed_;
    }
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    loop_returned();
    for (std::size_t i = 0; i < installed_; ++i) sigaction(kSignals[i], &old_[i], nullptr);
    sem_destroy(&stop_);
    session_ = nullptr;
  }

  bool installed() const { return installed_ == kSignals.size(); }
  /// Called on the loop's thread once the daemon has detached (threads do not survive fork).
  void start() {
    loop_thread_ = pthread_self();
    with_signals_blocked([this] { nudger_ = std::thread([this] { nudge(); }); });
  }
  /// The loop has returned, for whatever reason: the thread is stopped.
  void loop_returned() {
    {
      std::lock_guard lock(mutex_);
      returned_ = true;
    }
    returned_cv_.notify_all();
    sem_post(&stop_);
    if (nudger_.joinable()) nudger_.join();
  }
  /// The signal that stopped the loop, or 0.
  int stopped_by() const { return stopped_by_; }

 private:
  static constexpr std::array<int, 5> kSignals{SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE};

  bool install(int sig, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;  // no SA_RESTART: a blocked read or sem_wait fails with EINTR
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, &old_[installed_]) == 0;
  }
  static void on_stop(int sig) {
    int saved = errno;
    stopped_by_ = sig;
    if (session_ != nullptr) fuse_session_exit(session_);
    sem_post(&stop_);
    errno = saved;
  }
  static void on_nudge(int) {}
  void nudge() {
    while (sem_wait(&stop_) != 0 && errno == EINTR) {
    }
    std::unique_lock lock(mutex_);
    while (!returned_) {
      pthread_kill(loop_thread_, SIGUSR1);
      returned_cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
  }

  // What a signal handler reaches: it carries no userdata, and one session runs per process.
  static inline fuse_session* session_ = nullptr;
  static inline volatile std::sig_atomic_t stopped_by_ = 0;
  static inline sem_t stop_{};

  std::array<struct sigaction, kSignals.size()> old_{};
  std::size_t installed_ = 0;
  pthread_t loop_thread_{};
  std::thread nudger_;
  std::mutex mutex_;
  std::condition_variable returned_cv_;
  bool returned_ = false;
};

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

std::unique_ptr<Session> Session::create(const Options& o) {
  fuse_set_log_func(log_from_libfuse);
  auto strings = fuse_argv(o);
  std::vector<char*> argv;
  argv.reserve(strings.size());
  for (auto& s : strings) argv.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  std::unique_ptr<Session> session(new Session(nullptr, o));
  session->se_ =
      fuse_session_new(&args, &operations(), sizeof(fuse_lowlevel_ops), &session->slot_.served);
  fuse_opt_free_args(&args);
  flush_log();
  if (session->se_ == nullptr) return nullptr;
  return session;
}

Session::~Session() {
  if (se_ != nullptr) fuse_session_destroy(se_);
}

int Session::serve(Tree& tree, const Companion& companion) {
  Watcher watcher(tree, std::chrono::milliseconds(options_.poll_ms), notify_poll_handle,
                  discard_poll_handle);
  ::new (static_cast<void*>(&slot_.served)) Served{tree, options_.max_read, watcher};
  watcher_ = &watcher;
  int status = run(companion);
  fuse_session_destroy(se_);  // before the watcher and the tree go: no op runs after this
  se_ = nullptr;
  watcher_ = nullptr;
  return status;
}

void Session::kick() {
  if (Watcher* w = watcher_.load()) w->kick();
}

int Session::run(const Companion& companion) {
  StopSignals signals(se_);
  if (!signals.installed() || !mount_relaying_stderr(se_, options_.mountpoint)) return 1;
  mounted_ = true;
  if (auto ours = top_mount_at(options_.mountpoint)) mount_id_ = ours->id;
  fuse_daemonize(options_.foreground ? 1 : 0);
  if (!options_.foreground) log_to_syslog();  // stderr is /dev/null from here on
  notify_service_manager(ready_state());      // after the fork: MAINPID is the serving process
  Watcher& watcher = slot_.served.watcher;
  with_signals_blocked([&] {
    watcher.start();
    companion.start();
  });
  signals.start();
  int r = run_loop(se_, options_);
  notify_service_manager("STOPPING=1");
  signals.loop_returned();
  companion.stop();
  watcher.stop();
  unmount_if_ours();
  return r < 0 && signals.stopped_by() == 0 ? 1 : 0;  // EINTR after a stop signal is clean
}

/// The path may name another mount by now (a parent renamed, a mount stacked on ours): unmount
/// only if the mount on top at the path is still the one made at start. Otherwise closing
/// /dev/fuse (fuse_session_destroy) ends this mount's connection and touches no other mount.
void Session::unmount_if_ours() {
  const std::string& path = options_.mountpoint;
  auto top = top_mount_at(path);
  if (!mount_id_ || (top && top->id == *mount_id_)) {
    fuse_session_unmount(se_);
    return;
  }
  auto now = mount_with_id(*mount_id_);
  if (!now) {
    // Unmounted already (fusermount3 -u, umount -l): libfuse then sees POLLERR on /dev/fuse and
    // unmounts nothing by path; the call frees what fuse_session_mount kept.
    fuse_session_unmount(se_);
    return;
  }
  log_line(path + ": not unmounted: the path names another mount now (this one, without its " +
           "daemon, is at " + now->point + ")");
}

}  // namespace fieldfs

namespace fieldfs {

const char* fuse_version_text() { return fuse_pkgversion(); }

}  // namespace fieldfs
