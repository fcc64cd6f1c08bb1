// SPDX-License-Identifier: MIT
// The benchmark client that scripts/bench drives. Each timing runs in batches: one batch is
// calibrated to last about BATCH_MS, then BATCHES batches run and the median, minimum and maximum
// cost per operation are printed, in microseconds ("median min max"). Latencies are measured
// one operation at a time, never pipelined, as a program that reads a field would use it.
//
//   fieldfs_bench time OP BATCHES BATCH_MS TARGET...
//       OP: orc     open + read + close                        TARGET: a file
//           cat     open, read 128 KiB until 0, close (cat(1))
//           pread   pread at offset 0 on a held descriptor
//           owc     open(O_WRONLY|O_TRUNC) + write "1\n" + close
//           pwrite  pwrite "1\n" at offset 0 on a held descriptor
//           load    atomic load of the int at offset 0          TARGET: a segment file to map
//           store   atomic store of the int at offset 0
//           stores2 two atomic stores (release), to the ints at offsets 4 and 8
//           update2 the same two members in one fieldfs::Mapped<T>::update (T: a 4-byte
//                   counter and the two ints; SPEC §8: enter, stores, leave and FUTEX_WAKE)
//           get     Redis GET, one client, no pipelining        TARGET: PORT on 127.0.0.1
//           set     Redis SET
//       Several targets are timed batch by batch in turn; one line for each, in order.
//   fieldfs_bench conc READERS BATCHES BATCH_MS FILE...
//       READERS processes pread on held descriptors; prints aggregate ops/s "median min max".
//   fieldfs_bench wait PATH START_NS PID TIMEOUT_S
//       polls stat(PATH) until it succeeds; prints milliseconds since START_NS (date +%s%N).
//   fieldfs_bench freeport          prints a free TCP port on 127.0.0.1
//   fieldfs_bench ping PORT TIMEOUT_S   waits until Redis on 127.0.0.1:PORT answers PING
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fieldfs/mapped.hpp"

namespace {

struct Settings {
  int batches = 7;
  double batch_ms = 100;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fieldfs_bench: %s: %s\n", what.c_str(),
               std::error_code(errno, std::generic_category()).message().c_str());
  std::exit(1);
}

double now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void print_summary(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::printf("%.4f %.4f %.4f\n", values[values.size() / 2], values.front(), values.back());
}

/// One thing to time, with its descriptors and mappings, which stay open until the process exits.
class Timer {
 public:
  virtual ~Timer() = default;
  /// Performs the operation `n` times; any failure ends the process.
  virtual void run(long n) = 0;
};

template <typename F>
class LoopTimer final : public Timer {
 public:
  explicit LoopTimer(F f) : f_(std::move(f)) {}
  void run(long n) override {
    for (long i = 0; i < n; ++i) f_();
  }

 private:
  F f_;
};

template <typename F>
std::unique_ptr<Timer> loop(F f) {
  return std::make_unique<LoopTimer<F>>(std::move(f));
}

/// Nanoseconds per operation over `n` operations.
double per_op_ns(Timer& t, long n) {
  double start = now_ns();
  t.run(n);
  return (now_ns() - start) / static_cast<double>(n);
}

/// How many operations make one batch of about `batch_ms`; the calibration also warms up.
long calibrate(Timer& t, double batch_ms) {
  long n = 1;
  double ns = per_op_ns(t, n);
  while (ns * static_cast<double>(n) < 5e6 && n < (1L << 40)) ns = per_op_ns(t, n *= 4);
  return std::max(1L, static_cast<long>(batch_ms * 1e6 / ns));
}

/// Runs the timers' batches round robin, so that drift in the machine's load hits all targets
/// alike, and prints one line of µs per op for each.
void time_round_robin(const std::vector<std::unique_ptr<Timer>>& timers, const Settings& s) {
  std::vector<long> n;
  for (const auto& t : timers) n.push_back(calibrate(*t, s.batch_ms));
  std::vector<std::vector<double>> us(timers.size());
  for (int b = 0; b < s.batches; ++b) {
    for (std::size_t i = 0; i < timers.size(); ++i)
      us[i].push_back(per_op_ns(*timers[i], n[i]) / 1e3);
  }
  for (auto& u : us) print_summary(u);
}

int open_or_die(const char* path, int flags) {
  int fd = ::open(path, flags);
  if (fd < 0) die(std::string("open ") + path);
  return fd;
}

void close_or_die(int fd) {
  if (::close(fd) != 0) die("close");
}

std::unique_ptr<Timer> file_timer(std::string_view op, const char* path) {
  static char buf[128 * 1024];
  if (op == "orc") {
    return loop([path] {
      int fd = open_or_die(path, O_RDONLY);
      if (::read(fd, buf, 4096) <= 0) die("read");
      close_or_die(fd);
    });
  }
  if (op == "cat") {
    return loop([path] {
      int fd = open_or_die(path, O_RDONLY);
      ssize_t r;
      while ((r = ::read(fd, buf, sizeof buf)) > 0) {
      }
      if (r < 0) die("read");
      close_or_die(fd);
    });
  }
  if (op == "owc") {
    return loop([path] {
      int fd = open_or_die(path, O_WRONLY | O_TRUNC);
      if (::write(fd, "1\n", 2) != 2) die("write");
      close_or_die(fd);
    });
  }
  if (op == "pread") {
    return loop([fd = open_or_die(path, O_RDONLY)] {
      if (::pread(fd, buf, 4096, 0) <= 0) die("pread");
    });
  }
  if (op == "pwrite") {
    return loop([fd = open_or_die(path, O_WRONLY)] {
      if (::pwrite(fd, "1\n", 2, 0) != 2) die("pwrite");
    });
  }
  errno = EINVAL;
  die("unknown operation " + std::string(op));
}

/// The first `bytes` of the segment file `path`, mapped shared, read and write.
std::uint32_t* map_words(const char* path, std::size_t bytes) {
  int fd = open_or_die(path, O_RDWR);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die(std::string("mmap ") + path);
  ::close(fd);
  return static_cast<std::uint32_t*>(p);
}

/// A struct of two fields and its sequence counter, as update2 sees the segment.
struct Two {
  std::uint32_t seq;
  std::int32_t x;
  std::int32_t y;
};

/// Mapped<Two>::update storing both fields, on the segment at `path` (/dev/shm/NAME).
std::unique_ptr<Timer> update_timer(const char* path) {
  std::string_view name(path);
  if (name.starts_with("/dev/shm/")) name.remove_prefix(9);
  auto m = std::make_shared<fieldfs::Mapped<Two>>(name, &Two::seq);
  return loop([m, v = 0]() mutable {
    ++v;
    m->update([v](Two& t) {
      t.x = v;
      t.y = -v;
    });
  });
}

std::unique_ptr<Timer> mapping_timer(std::string_view op, const char* path) {
  std::uint32_t* words = map_words(path, 3 * sizeof(std::uint32_t));
  std::atomic_ref<int> field(*reinterpret_cast<int*>(words));  // never elided, unlike plain
  if (op == "load") return loop([field] { (void)field.load(std::memory_order_acquire); });
  if (op == "store") {
    return loop([field, value = 0]() mutable { field.store(++value, std::memory_order_release); });
  }
  std::atomic_ref<std::uint32_t> x(words[1]), y(words[2]);
  if (op == "stores2") {
    return loop([x, y, v = 0U]() mutable {
      x.store(++v, std::memory_order_release);
      y.store(v, std::memory_order_release);
    });
  }
  errno = EINVAL;
  die("unknown operation " + std::string(op));
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/// Sends one RESP command and reads its whole reply; returns the reply's first line.
std::string redis_call(int fd, const std::string& command) {
  if (::send(fd, command.data(), command.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(command.size())) {
    die("send");
  }
  char buf[512];
  std::size_t have = 0, need = 0;
  for (;;) {
    ssize_t r = ::recv(fd, buf + have, sizeof buf - have, 0);
    if (r <= 0) die("recv");
    have += static_cast<std::size_t>(r);
    std::string_view got(buf, have);
    auto eol = got.find("\r\n");
    if (eol == std::string_view::npos) continue;
    if (need == 0) {
      need = eol + 2;
      if (got[0] == '$' && got[1] != '-') need += std::stoul(std::string(got.substr(1))) + 2;
    }
    if (have >= need) return std::string(got.substr(0, eol));
    if (have == sizeof buf) die("reply too long");
  }
}

std::string resp(std::initializer_list<std::string_view> words) {
  std::string out("*");
  out.append(std::to_string(words.size())).append("\r\n");
  for (auto w : words)
    out.append("$").append(std::to_string(w.size())).append("\r\n").append(w).append("\r\n");
  return out;
}

std::unique_ptr<Timer> redis_timer(std::string_view op, int port) {
  int fd = connect_loopback(port);
  if (fd < 0) die("connect");
  if (redis_call(fd, resp({"SET", "fieldfs-bench", "1"})) != "+OK") die("SET was refused");
  std::string command =
      op == "get" ? resp({"GET", "fieldfs-bench"}) : resp({"SET", "fieldfs-bench", "1"});
  return loop([fd, command] {
    if (redis_call(fd, command)[0] == '-') die("Redis replied with an error");
  });
}

std::unique_ptr<Timer> make_timer(std::string_view op, const char* target) {
  if (op == "update2") return update_timer(target);
  if (op == "load" || op == "store" || op == "stores2") return mapping_timer(op, target);
  if (op == "get" || op == "set") return redis_timer(op, std::atoi(target));
  return file_timer(op, target);
}

/// One reader process: waits for `start`, then preads until `end`; returns its count.
long reader(const char* path, double start, double end) {
  int fd = open_or_die(path, O_RDONLY);
  char buf[4096];
  timespec ts{static_cast<time_t>(start / 1e9), static_cast<long>(std::fmod(start, 1e9))};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  long count = 0;
  while (now_ns() < end) {
    if (::pread(fd, buf, sizeof buf, 0) <= 0) die("pread");
    ++count;
  }
  return count;
}

/// One batch of `readers` concurrent processes; returns the aggregate ops/s.
double concurrent_batch(int readers, const char* path, double batch_ms) {
  int fds[2];
  if (pipe(fds) != 0) die("pipe");
  double start = now_ns() + 30e6, end = start + batch_ms * 1e6;
  for (int i = 0; i < readers; ++i) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      long count = reader(path, start, end);
      _exit(::write(fds[1], &count, sizeof count) == sizeof count ? 0 : 1);
    }
  }
  ::close(fds[1]);
  long total = 0, count = 0;
  while (::read(fds[0], &count, sizeof count) == sizeof count) total += count;
  ::close(fds[0]);
  int status = 0, failed = 0;
  while (wait(&status) > 0) failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (failed != 0) {
    errno = EIO;
    die("a reader failed");
  }
  return static_cast<double>(total) / (batch_ms / 1e3);
}

int wait_for(const char* path, double start_ns, pid_t pid, double timeout_s) {
  struct stat st {};
  while (::stat(path, &st) != 0) {
    if (kill(pid, 0) != 0) {
      std::fprintf(stderr, "fieldfs_bench: the daemon (pid %d) exited before %s appeared\n",
                   static_cast<int>(pid), path);
      return 1;
    }
    if (now_ns(CLOCK_REALTIME) - start_ns > timeout_s * 1e9) {
      std::fprintf(stderr, "fieldfs_bench: %s did not appear in %.0f s\n", path, timeout_s);
      return 1;
    }
    usleep(200);
  }
  std::printf("%.1f\n", (now_ns(CLOCK_REALTIME) - start_ns) / 1e6);
  return 0;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    die("bind");
  }
  std::printf("%d\n", ntohs(a.sin_port));
  ::close(fd);
  return 0;
}

int ping(int port, double timeout_s) {
  double deadline = now_ns() + timeout_s * 1e9;
  for (;;) {
    int fd = connect_loopback(port);
    bool ok = fd >= 0 && redis_call(fd, resp({"PING"})) == "+PONG";
    if (fd >= 0) ::close(fd);
    if (ok) return 0;
    if (now_ns() > deadline) {
      std::fprintf(stderr, "fieldfs_bench: no Redis on 127.0.0.1:%d\n", port);
      return 1;
    }
    usleep(10000);
  }
}

Settings settings_from(char** argv) {
  Settings s;
  s.batches = std::max(1, std::atoi(argv[0]));
  s.batch_ms = std::max(1.0, std::atof(argv[1]));
  return s;
}

/// Concurrent batches, round robin over the files; prints one line of ops/s for each.
void concurrent_round_robin(int readers, const std::vector<const char*>& files, const Settings& s) {
  std::vector<std::vector<double>> rates(files.size());
  for (int b = 0; b < s.batches; ++b) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      rates[i].push_back(concurrent_batch(readers, files[i], s.batch_ms));
    }
  }
  for (auto& r : rates) print_summary(r);
}

int usage() {
  std::fputs(
      "usage: fieldfs_bench time OP BATCHES BATCH_MS TARGET...\n"
      "       fieldfs_bench conc READERS BATCHES BATCH_MS FILE...\n"
      "       fieldfs_bench wait PATH START_NS PID TIMEOUT_S\n"
      "       fieldfs_bench freeport | ping PORT TIMEOUT_S\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view cmd = argc > 1 ? argv[1] : "";
  if (cmd == "time" && argc >= 6) {
    std::vector<std::unique_ptr<Timer>> timers;
    for (int i = 5; i < argc; ++i) timers.push_back(make_timer(argv[2], argv[i]));
    time_round_robin(timers, settings_from(argv + 3));
    return 0;
  }
  if (cmd == "conc" && argc >= 6) {
    concurrent_round_robin(std::max(1, std::atoi(argv[2])),
                           std::vector<const char*>(argv + 5, argv + argc),
                           settings_from(argv + 3));
    return 0;
  }
  if (cmd == "wait" && argc == 6) {
    return wait_for(argv[2], std::atof(argv[3]), std::atoi(argv[4]), std::atof(argv[5]));
  }
  if (cmd == "freeport") return free_port();
  if (cmd == "ping" && argc == 4) return ping(std::atoi(argv[2]), std::atof(argv[3]));
  return usage();
}
