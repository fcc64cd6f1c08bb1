// SPDX-License-Identifier: MIT
// The fleet figures (-o etcd=, SPEC §9, issue 15): how long a write through one host's mount
// takes to reach another host's file, and compare-and-set increments through .json.
// bench/fleet_phases.py runs it; every mount is visible here, so one process times both ends.
//
//   fleet prop SAMPLES WFILE RFILE read|poll   prints "median p99 max" in µs
//   fleet cas SECONDS JSON                     prints "increments eagain"
//
// prop: a reader thread holds RFILE (the field x of a struct pos) open and sees its value;
// after a delay drawn from 1-5 ms the main thread notes the time and pwrites k to WFILE; the
// reader notes when RFILE first reads k: "read" preads RFILE at offset 0 in a tight loop,
// "poll" blocks in epoll_wait (EPOLLPRI) and reads when woken. With WFILE == RFILE's mount it
// is the local floor. A sample not seen in 5 s counts 5 s.
// cas: until SECONDS pass, reads JSON, writes it back with x + 1 and the seq it read (open,
// O_TRUNC, write, close); an EAGAIN (another host's write came between) is retried.
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fleet: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// The value a held field file reads at offset 0.
long read_value(int fd) {
  char buf[64];
  ssize_t got = ::pread(fd, buf, sizeof buf - 1, 0);
  if (got < 0) die("pread");
  buf[got] = '\0';
  return std::atol(buf);
}

/// What the writer and the reader thread tell each other about sample k.
struct Handoff {
  std::atomic<int> armed{0};
  std::atomic<std::int64_t> seen_ns{0};
};

/// The reader's side: for each k, arms, then waits (by mode) until the file reads k.
void reader(const char* path, bool poll, int samples, Handoff& h) {
  int fd = ::open(path, O_RDONLY);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLPRI;
  if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die(path);
  long seen = read_value(fd);
  for (int k = 1; k <= samples; ++k) {
    std::int64_t end = now_ns() + 5'000'000'000 + 20'000'000;
    h.armed.store(k);
    while (seen != k && now_ns() < end) {
      if (poll && epoll_wait(ep, &ev, 1, 100) < 0 && errno != EINTR) die("epoll_wait");
      seen = read_value(fd);
    }
    h.seen_ns.store(seen == k ? now_ns() : -1);
    h.seen_ns.notify_one();
  }
  ::close(ep);
  ::close(fd);
}

/// The percentiles of the write → seen latencies in µs.
void print_summary(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  std::printf("%.1f %.1f %.1f\n", at(0.5), at(0.99), us.back());
}

int prop(int samples, const char* wfile, const char* rfile, bool poll) {
  int wfd = ::open(wfile, O_WRONLY);
  if (wfd < 0) die(wfile);
  if (::pwrite(wfd, "0\n", 2, 0) != 2) die("pwrite 0");
  usleep(200'000);  // every replica reads 0 before the reader arms
  Handoff h;
  std::thread t(reader, rfile, poll, samples, std::ref(h));
  std::mt19937 rng(15);
  std::uniform_int_distribution<int> delay_us(1000, 5000);
  std::vector<double> us;
  for (int k = 1; k <= samples; ++k) {
    while (h.armed.load() != k) usleep(50);
    h.seen_ns.store(0);
    usleep(static_cast<useconds_t>(delay_us(rng)));
    std::string text = std::to_string(k) + "\n";
    std::int64_t wrote = now_ns();
    if (::pwrite(wfd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
      die("pwrite");
    h.seen_ns.wait(0);
    std::int64_t seen = h.seen_ns.load();
    us.push_back(seen < 0 ? 5e6 : static_cast<double>(seen - wrote) / 1e3);
  }
  t.join();
  ::close(wfd);
  print_summary(us);
  return 0;
}

/// The number after "\"KEY\": " in doc, or -1 when it is not there.
long field(const std::string& doc, const char* key) {
  std::string tag = std::string("\"") + key + "\": ";
  std::size_t at = doc.find(tag);
  return at == std::string::npos ? -1 : std::atol(doc.c_str() + at + tag.size());
}

/// One attempt: read JSON, write {"seq": s, "x": x + 1}; 0, or the errno of the write.
int increment(const char* json) {
  char buf[4096];
  int fd = ::open(json, O_RDONLY);
  ssize_t got = fd < 0 ? -1 : ::read(fd, buf, sizeof buf - 1);
  if (got <= 0) die(std::string("read ") + json);
  ::close(fd);
  std::string doc(buf, static_cast<std::size_t>(got));
  long seq = field(doc, "seq"), x = field(doc, "x");
  if (seq < 0) return EAGAIN;  // no seq: not readable as a stable state
  std::string out =
      "{\"seq\": " + std::to_string(seq) + ", \"x\": " + std::to_string(x + 1) + "}\n";
  fd = ::open(json, O_WRONLY | O_TRUNC);
  if (fd < 0) return errno;
  int error = ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  return error;
}

int cas(double seconds, const char* json) {
  long done = 0, again = 0;
  std::int64_t end = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  while (now_ns() < end) {
    int error = increment(json);
    if (error == EAGAIN) {
      ++again;
    } else if (error != 0) {
      errno = error;
      die(std::string("write ") + json);
    } else {
      ++done;
    }
  }
  std::printf("%ld %ld\n", done, again);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "prop") == 0)
    return prop(std::max(1, std::atoi(argv[2])), argv[3], argv[4],
                std::strcmp(argv[5], "poll") == 0);
  if (argc == 4 && std::strcmp(argv[1], "cas") == 0) return cas(std::atof(argv[2]), argv[3]);
  std::fprintf(stderr,
               "usage: fleet prop SAMPLES WFILE RFILE read|poll | fleet cas SECONDS JSON\n");
  return 2;
}
