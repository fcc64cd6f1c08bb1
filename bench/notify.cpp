// SPDX-License-Identifier: MIT
// Notification latency (issue 12): from a protocol writer's store (SPEC §8) to the return of an
// epoll_wait blocked on the field file (EPOLLPRI, SPEC §6); and a poller that only waits, for
// the idle figures. scripts/bench runs it with -o seq=seq and without.
//
//   notify measure SAMPLES FILE SEGMENT   prints the latency in µs: "median p99 max"
//   notify hold SECONDS FILE              waits in epoll on FILE for SECONDS, then exits 0
//
// measure: a poller thread reads FILE (the field x of a struct pos), then blocks in epoll_wait;
// after a delay drawn from 1-11 ms (so that stores fall at every phase of the daemon's sampling)
// the main thread stores x = k in one write section through the mapping of SEGMENT and notes
// the time; the poller notes when epoll_wait returns and checks that FILE now reads k.
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pos.hpp"

namespace {

constexpr const char* kProgram = "notify";

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// A field file held open and registered for EPOLLPRI.
class Poller {
 public:
  explicit Poller(const char* path) : path_(path) {
    fd_ = ::open(path, O_RDONLY);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (fd_ < 0 || ep_ < 0) bench::die(kProgram, std::string("open ") + path);
    epoll_event ev{};
    ev.events = EPOLLPRI;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd_, &ev) != 0) bench::die(kProgram, "epoll_ctl");
  }
  ~Poller() {
    ::close(ep_);
    ::close(fd_);
  }
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  /// Reads the file (which re-arms it) and returns its value.
  long read_value() {
    char buf[64];
    ssize_t got = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (got < 0) bench::die(kProgram, "pread " + path_);
    buf[got] = '\0';
    return std::atol(buf);
  }
  /// Blocks until the file reports a change or `ms` pass; whether it did.
  bool wait(int ms) {
    epoll_event ev{};
    int n = epoll_wait(ep_, &ev, 1, ms);
    if (n < 0 && errno != EINTR) bench::die(kProgram, "epoll_wait");
    return n > 0;
  }

 private:
  std::string path_;
  int fd_ = -1;
  int ep_ = -1;
};

/// The poller's side of one sample: arms, says so, waits, notes when it returned.
struct Handoff {
  std::atomic<int> armed{0};
  std::atomic<std::int64_t> returned_ns{0};
};

void poll_loop(Poller& poller, int samples, Handoff& h) {
  long seen = poller.read_value();
  for (int k = 1; k <= samples; ++k) {
    h.armed.store(k);
    std::int64_t returned = -1;
    while (seen != k && poller.wait(5000)) {
      returned = now_ns();
      seen = poller.read_value();
    }
    h.returned_ns.store(seen == k ? returned : -1);
    h.returned_ns.notify_one();
  }
}

int measure(int samples, const char* file, const char* segment) {
  pos& p = bench::map_pos(kProgram, segment);
  fieldfs::SeqLock lock = bench::lock_of(p);
  if (!bench::store(lock, p, 0)) bench::die(kProgram, "a write section timed out");
  Poller poller(file);
  Handoff h;
  std::thread poll_thread(poll_loop, std::ref(poller), samples, std::ref(h));
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> delay_us(1000, 11000);
  std::vector<double> us;
  for (int k = 1; k <= samples; ++k) {
    while (h.armed.load() != k) usleep(100);
    h.returned_ns.store(0);
    usleep(static_cast<useconds_t>(delay_us(rng)));
    std::int64_t stored = now_ns();
    if (!bench::store(lock, p, k)) bench::die(kProgram, "a write section timed out");
    h.returned_ns.wait(0);
    std::int64_t returned = h.returned_ns.load();
    us.push_back(returned < 0 ? 5e6 : static_cast<double>(returned - stored) / 1e3);
  }
  poll_thread.join();
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  std::printf("%.1f %.1f %.1f\n", at(0.5), at(0.99), us.back());
  return 0;
}

int hold(double seconds, const char* file) {
  Poller poller(file);
  std::int64_t end = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  poller.read_value();
  for (std::int64_t left = end - now_ns(); left > 0; left = end - now_ns()) {
    if (poller.wait(static_cast<int>(left / 1'000'000) + 1)) poller.read_value();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "measure") == 0)
    return measure(std::max(1, std::atoi(argv[2])), argv[3], argv[4]);
  if (argc == 4 && std::strcmp(argv[1], "hold") == 0) return hold(std::atof(argv[2]), argv[3]);
  std::fprintf(stderr, "usage: notify measure SAMPLES FILE SEGMENT | notify hold SECONDS FILE\n");
  return 2;
}
