// SPDX-License-Identifier: MIT
// What readers of a field file see while another process stores to the segment's mapping:
// every text must be a value that was stored, and no value may be served long after it was
// replaced. scripts/bench runs it against fieldfs (direct_io: the control) and against the
// page-cache prototype (bench/null_fs.c -o cache=...).
//
//   coherence SECONDS PERIOD_US BOUND_US FILE SEGMENT
//
// A writer process stores 7 and 12345 in turn into the int at offset 0 of SEGMENT, one store
// every PERIOD_US. Three reader processes open, read and close FILE in a loop: two read it
// whole with a 128 KiB buffer (as cat(1) does), one a byte at a time up to the newline (as
// dash's `read` does). One line per reader kind:
//
//   KIND reads=N wrong=W stale=S oldest_us=A
//
// wrong: text that is neither "7\n" nor "12345\n" (a torn or padded value, never stored);
// stale: a value already replaced more than BOUND_US before the read began; oldest_us: the
// largest such age among all reads (0 if none was old). Reads during which the writer stored
// are not judged stale: either value is right for them.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <system_error>

namespace {

constexpr int kValues[2] = {7, 12345};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "coherence: %s: %s\n", what,
               std::error_code(errno, std::generic_category()).message().c_str());
  std::exit(1);
}

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// Shared by the writer and the readers (an anonymous shared mapping made before fork). The
/// writer makes `seq` odd, stores, notes the time, and makes it even again, so a reader can
/// take the value and the time of its store as one consistent pair.
struct Shared {
  std::atomic<std::uint64_t> seq{0};
  std::atomic<std::int64_t> stored_ns{0};
};

struct Tally {
  long reads = 0;
  long wrong = 0;
  long stale = 0;
  std::int64_t oldest_ns = 0;
};

void write_loop(Shared& shared, std::atomic<int>& field, std::int64_t end, useconds_t period) {
  for (long n = 0; now_ns() < end; ++n) {
    shared.seq.fetch_add(1);
    field.store(kValues[n % 2]);
    shared.stored_ns.store(now_ns());
    shared.seq.fetch_add(1);
    usleep(period);
  }
}

/// Opens, reads and closes `file`: whole with a cat-sized buffer, or a byte at a time.
std::string read_once(const char* file, bool bytewise) {
  static char buf[128 * 1024];
  int fd = open(file, O_RDONLY);
  if (fd < 0) die(file);
  std::size_t len = 0;
  for (;;) {
    ssize_t got = read(fd, buf + len, bytewise ? 1 : sizeof buf - len);
    if (got < 0) die(file);
    if (got == 0) break;
    len += static_cast<std::size_t>(got);
    if ((bytewise && buf[len - 1] == '\n') || len == sizeof buf) break;
  }
  close(fd);
  return {buf, len};
}

Tally read_loop(const Shared& shared, const std::atomic<int>& field, const char* file,
                bool bytewise, std::int64_t end, std::int64_t bound_ns) {
  Tally t;
  while (now_ns() < end) {
    std::uint64_t seq = 0;
    int current = 0;
    std::int64_t stored = 0;
    do {
      seq = shared.seq.load();
      current = field.load();
      stored = shared.stored_ns.load();
    } while ((seq & 1) != 0 || shared.seq.load() != seq);
    std::int64_t began = now_ns();
    std::string text = read_once(file, bytewise);
    ++t.reads;
    bool stored_during = shared.seq.load() != seq;
    bool known =
        text == std::to_string(kValues[0]) + "\n" || text == std::to_string(kValues[1]) + "\n";
    if (!known) {
      ++t.wrong;
    } else if (!stored_during && text != std::to_string(current) + "\n") {
      std::int64_t age = began - stored;  // it had been replaced at least this long ago
      t.oldest_ns = std::max(t.oldest_ns, age);
      if (age > bound_ns) ++t.stale;
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: coherence SECONDS PERIOD_US BOUND_US FILE SEGMENT\n");
    return 2;
  }
  const std::int64_t end = now_ns() + std::atoll(argv[1]) * 1'000'000'000;
  const auto period = static_cast<useconds_t>(std::atoi(argv[2]));
  const std::int64_t bound_ns = std::atoll(argv[3]) * 1000;
  const char* file = argv[4];

  int fd = open(argv[5], O_RDWR);
  if (fd < 0) die(argv[5]);
  void* seg = mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  void* mem = mmap(nullptr, sizeof(Shared) + 3 * sizeof(Tally), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (seg == MAP_FAILED || mem == MAP_FAILED) die("mmap");
  close(fd);
  auto& field = *static_cast<std::atomic<int>*>(seg);
  auto* shared = new (mem) Shared;
  auto* tallies = reinterpret_cast<Tally*>(static_cast<char*>(mem) + sizeof(Shared));

  field.store(kValues[1]);
  usleep(50'000);  // the first value is older than any bound before the readers start
  field.store(kValues[0]);
  shared->stored_ns.store(now_ns());
  for (int r = 0; r < 3; ++r) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      tallies[r] = read_loop(*shared, field, file, r == 2, end, bound_ns);
      std::_Exit(0);
    }
  }
  write_loop(*shared, field, end, period);
  int failed = 0;
  for (int r = 0; r < 3; ++r) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  if (failed != 0) return 1;
  const char* kinds[2] = {"whole", "bytewise"};
  Tally sum[2];
  for (int r = 0; r < 3; ++r) {
    Tally& s = sum[r == 2 ? 1 : 0];
    s.reads += tallies[r].reads;
    s.wrong += tallies[r].wrong;
    s.stale += tallies[r].stale;
    s.oldest_ns = std::max(s.oldest_ns, tallies[r].oldest_ns);
  }
  for (int k = 0; k < 2; ++k) {
    std::printf("%s reads=%ld wrong=%ld stale=%ld oldest_us=%lld\n", kinds[k], sum[k].reads,
                sum[k].wrong, sum[k].stale, static_cast<long long>(sum[k].oldest_ns / 1000));
  }
  return 0;
}
