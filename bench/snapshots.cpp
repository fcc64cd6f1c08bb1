// SPDX-License-Identifier: MIT
// Mixed snapshots (issue 12): what readers of a struct pos see while protocol writers (SPEC §8)
// update it as fast as they can. scripts/bench runs it on a mount with -o seq=seq (every read
// must be one state) and on one without (the baseline: reads mix two states).
//
//   snapshots READS MODE MOUNT SEGMENT        MODE: seq (the mapping reader follows the
//                                             protocol) or plain (it copies without it)
//
// Two writer threads store x = i, y = -i, name = "i/i" (10 digits each) in write sections on the
// mapping of SEGMENT, each its own i: one through fieldfs::SeqLock, one through
// fieldfs::Mapped<pos>::update. Three reader threads pread, on held descriptors, MOUNT's .json,
// .raw and name, READS / 3 times each; a fourth copies the mapping (Mapped<pos>::snapshot with
// seq, plain atomic loads without) until they are done. One line per reader:
//
//   KIND reads=N mixed=M eagain=E
//
// mixed: a read that is not one stored state (y != -x, a name that does not state x, a name
// whose halves differ, text that does not parse); eagain: reads that failed with EAGAIN.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pos.hpp"

namespace {

constexpr const char* kProgram = "snapshots";

struct Tally {
  const char* kind;
  long reads = 0;
  long mixed = 0;
  long eagain = 0;
};

/// Whether a .json text is one state: {"seq": S, "x": X, "y": Y, "name": "N"}.
bool json_whole(const char* text) {
  int x = 0, y = 0;
  char name[sizeof(pos::name)] = {};
  return std::sscanf(text, "{\"seq\": %*u, \"x\": %d, \"y\": %d, \"name\": \"%23[^\"]\"}", &x, &y,
                     name) == 3 &&
         bench::consistent(x, y, name);
}

/// Whether a .raw image is one state.
bool raw_whole(const char* image, ssize_t len) {
  pos p{};
  if (len != static_cast<ssize_t>(sizeof p)) return false;
  std::memcpy(&p, image, sizeof p);
  p.name[sizeof p.name - 1] = '\0';
  return bench::consistent(p.x, p.y, p.name);
}

/// Whether a name file's text is one stored name ("0000000042/0000000042\n").
bool name_text_whole(char* text, ssize_t len) {
  if (len < 1 || text[len - 1] != '\n') return false;
  text[len - 1] = '\0';
  return bench::name_whole(text);
}

/// Preads `file` in MOUNT `n` times on a held descriptor, judging each text.
void read_file(const std::string& path, long n, Tally& t) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) bench::die(kProgram, "open " + path);
  char buf[4096];
  for (long i = 0; i < n; ++i) {
    ssize_t got = ::pread(fd, buf, sizeof buf - 1, 0);
    ++t.reads;
    if (got < 0 && errno == EAGAIN) {
      ++t.eagain;
      continue;
    }
    if (got < 0) bench::die(kProgram, "pread " + path);
    buf[got] = '\0';
    bool whole = t.kind[0] == 'j'   ? json_whole(buf)
                 : t.kind[0] == 'r' ? raw_whole(buf, got)
                                    : name_text_whole(buf, got);
    t.mixed += !whole;
  }
  ::close(fd);
}

/// Copies the mapping until `done`: Mapped<pos>::snapshot (waiting as the daemon does), or
/// plain atomic loads without the protocol.
void read_mapping(pos& p, const char* segment, bool protocol, const std::atomic<bool>& done,
                  Tally& t) {
  auto m = bench::mapped_pos(segment, fieldfs::SeqLock::kDefaultBound);
  pos copy{};
  while (!done.load(std::memory_order_relaxed)) {
    ++t.reads;
    if (protocol) {
      auto snap = m.try_snapshot();
      if (!snap) {
        ++t.eagain;
        continue;
      }
      copy = *snap;
    } else {
      bench::copy(p, copy.x, copy.y, copy.name);
    }
    copy.name[sizeof copy.name - 1] = '\0';
    t.mixed += !bench::consistent(copy.x, copy.y, copy.name);
  }
}

/// Stores i = first, first + 2, ... in write sections until `done`: writer 0 with SeqLock and
/// atomic stores of each byte, writer 1 with Mapped<pos>::update.
void write_loop(pos& p, const char* segment, int first, const std::atomic<bool>& done) {
  fieldfs::SeqLock lock = bench::lock_of(p);
  auto m = bench::mapped_pos(segment, std::chrono::seconds(10));
  for (int i = first; !done.load(std::memory_order_relaxed); i = (i + 2) % 1'000'000'000) {
    bool stored = first == 0 ? bench::store(lock, p, i) : bench::update(m, i);
    if (!stored) bench::die(kProgram, "a write section timed out");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[2], "seq") != 0 && std::strcmp(argv[2], "plain") != 0)) {
    std::fprintf(stderr, "usage: snapshots READS seq|plain MOUNT SEGMENT\n");
    return 2;
  }
  const long each = std::max(1L, std::atol(argv[1]) / 3);
  const bool protocol = std::strcmp(argv[2], "seq") == 0;
  const std::string mount = argv[3];
  pos& p = bench::map_pos(kProgram, argv[4]);
  fieldfs::SeqLock lock = bench::lock_of(p);
  if (!bench::store(lock, p, 0)) bench::die(kProgram, "the first write section timed out");

  std::atomic<bool> done{false};
  std::vector<Tally> tallies = {{"json"}, {"raw"}, {"name"}, {"mapping"}};
  std::vector<std::thread> writers, readers;
  for (int w = 0; w < 2; ++w)
    writers.emplace_back(write_loop, std::ref(p), argv[4], w, std::cref(done));
  std::thread mapping(read_mapping, std::ref(p), argv[4], protocol, std::cref(done),
                      std::ref(tallies[3]));
  const char* files[3] = {"/.json", "/.raw", "/name"};
  for (std::size_t r = 0; r < 3; ++r)
    readers.emplace_back(read_file, mount + files[r], each, std::ref(tallies[r]));
  for (auto& t : readers) t.join();
  done = true;
  mapping.join();
  for (auto& t : writers) t.join();
  for (const Tally& t : tallies)
    std::printf("%s reads=%ld mixed=%ld eagain=%ld\n", t.kind, t.reads, t.mixed, t.eagain);
  return 0;
}
