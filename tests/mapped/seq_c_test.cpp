// SPDX-License-Identifier: MIT
// fieldfs/seqlock.h (the C protocol of SPEC §8) across processes: C writers and readers (the
// seq_worker program, C11) and fieldfs::SeqLock (C++) on one mapped state, checking each other.
// The oracle is the invariant every section keeps (y == -x, name == x in decimal, an even
// counter) and arithmetic (x == the sections made, the counter == 2 per section), never the
// header's code; the control run without sections shows that the readers do catch mixes.
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <sstream>
#include <thread>

#include "fieldfs/seqlock.hpp"
#include "seq_c_harness.hpp"

namespace fieldfs::seqc {
namespace {

using namespace std::chrono_literals;
using Children = std::vector<std::unique_ptr<Child>>;

constexpr long kSections = 30000;  // per writer: long enough to span scheduler slices

std::int64_t load(std::int64_t& at) {
  return std::atomic_ref<std::int64_t>(at).load(std::memory_order_relaxed);
}
void store(std::int64_t& at, std::int64_t v) {
  std::atomic_ref<std::int64_t>(at).store(v, std::memory_order_relaxed);
}

/// The name's words, each with one atomic load or store, as the daemon and the header do.
void copy_name(char* to, char* from, bool store_to) {
  for (std::size_t i = 0; i < sizeof State::name; i += 8) {
    auto* src = reinterpret_cast<std::uint64_t*>(from + i);
    auto* dst = reinterpret_cast<std::uint64_t*>(to + i);
    auto v = std::atomic_ref<std::uint64_t>(*src).load(std::memory_order_relaxed);
    if (store_to) {
      std::atomic_ref<std::uint64_t>(*dst).store(v, std::memory_order_relaxed);
    } else {
      *dst = v;
    }
  }
}

/// A consistent copy of `st` through SeqLock::read; its counter in *s.
Result<std::uint64_t> read_state(SeqLock& lock, State& st, State& copy) {
  return lock.read([&] {
    copy.x = load(st.x);
    copy.y = load(st.y);
    copy_name(copy.name, st.name, false);
  });
}

/// As seq_worker's dawdle: a microsecond or so that widens the window for a mix or a conflict.
volatile int dawdled;
void dawdle() {
  for (int i = 0; i < 400; ++i) dawdled = i;
}

/// The stores of one update to x, inside a SeqLock section (the same as seq_worker's put).
void put(State& st, std::int64_t x) {
  alignas(8) char name[sizeof st.name] = {};
  store(st.x, x);
  std::snprintf(name, sizeof name, "%lld", static_cast<long long>(x));
  dawdle();
  store(st.y, -x);
  copy_name(st.name, name, true);
}

SeqLock lock_of(StateFile& f, unsigned width) { return SeqLock(f.counter(), width, 5s); }

std::unique_ptr<Child> c_worker(const char* role, StateFile& f, unsigned width, long arg = 0) {
  return std::make_unique<Child>(std::vector<std::string>{
      FIELDFS_SEQ_WORKER, role, f.path(), std::to_string(width), std::to_string(arg)});
}

/// A C++ writer: n sections x += 1 (or compare-and-set increments); prints its conflicts.
std::unique_ptr<Child> cpp_writer(StateFile& f, unsigned width, long n, bool cas) {
  return std::make_unique<Child>([&f, width, n, cas] {
    SeqLock lock = lock_of(f, width);
    State& st = f.state();
    long conflicts = 0;
    for (long done = 0; done < n;) {
      State copy{};
      auto seen = read_state(lock, st, copy);
      if (!seen) return 4;
      dawdle();  // as seq_worker's cas: others may write (and now and then surely do) meanwhile
      if (done % 64 == 63) std::this_thread::yield();
      auto s = cas ? lock.enter(*seen) : lock.enter();
      if (!s && cas) {
        ++conflicts;
        continue;
      }
      if (!s) return 4;
      put(st, (cas ? copy.x : load(st.x)) + 1);
      lock.leave(*s);
      ++done;
    }
    std::printf("%ld\n", conflicts);
    return 0;
  });
}

/// A C++ reader until x == total; prints "snapshots mixed during" (seq_worker's first three).
std::unique_ptr<Child> cpp_reader(StateFile& f, unsigned width, long total) {
  return std::make_unique<Child>([&f, width, total] {
    SeqLock lock = lock_of(f, width);
    long snapshots = 0, mixed = 0, during = 0;
    for (std::int64_t last = 0; last != total;) {
      State copy{};
      auto s = read_state(lock, f.state(), copy);
      if (!s) return 4;
      ++snapshots;
      char name[sizeof copy.name] = {};
      std::snprintf(name, sizeof name, "%lld", static_cast<long long>(copy.x));
      bool ok = copy.y == -copy.x && std::memcmp(name, copy.name, sizeof name) == 0 &&
                (*s & 1) == 0 && copy.x >= last;
      mixed += ok ? 0 : 1;
      during += copy.x > 0 && copy.x < total ? 1 : 0;
      last = copy.x;
    }
    std::printf("%ld %ld %ld\n", snapshots, mixed, during);
    return 0;
  });
}

/// Runs writers and readers to the end; every reader saw only whole states, and some of them
/// while the writers ran; the state holds `total` sections.
void expect_whole(StateFile& f, unsigned width, Children writers, Children readers, long total) {
  for (auto& w : writers) {
    Outcome o = w->finish(60s);
    EXPECT_EQ(o.code, 0) << "writer: " << o.out;
    std::printf("writer: %s", o.out.c_str());
  }
  for (auto& r : readers) {
    Outcome o = r->finish(10s);  // the writers are done: x is final
    EXPECT_EQ(o.code, 0) << "the reader never saw x reach " << total << " (an update lost?)";
    if (o.code != 0) continue;
    long snapshots = -1, mixed = -1, during = -1;
    std::istringstream(o.out) >> snapshots >> mixed >> during;
    std::printf("reader: snapshots mixed during [retries eagain]: %s", o.out.c_str());
    EXPECT_EQ(mixed, 0) << o.out;
    EXPECT_GT(during, 0) << "the reader never overlapped the writers: " << o.out;
  }
  State& st = f.state();
  EXPECT_EQ(st.x, total);
  EXPECT_EQ(st.y, -total);
  EXPECT_STREQ(st.name, std::to_string(total).c_str());
  auto sections = static_cast<std::uint64_t>(2 * total);
  EXPECT_EQ(lock_of(f, width).value(), width == 8 ? sections : sections & 0xFFFFFFFFU);
}

class SeqCTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(SeqCTest, CWritersNeverShowCReadersAMix) {
  StateFile f;
  unsigned w = GetParam();
  Children readers, writers;
  for (int i = 0; i < 2; ++i) readers.push_back(c_worker("read", f, w, 3 * kSections));
  for (int i = 0; i < 3; ++i) writers.push_back(c_worker("write", f, w, kSections));
  expect_whole(f, w, std::move(writers), std::move(readers), 3 * kSections);
}

TEST_P(SeqCTest, CCompareAndSetFromSeveralProcessesLosesNoIncrement) {
  StateFile f;
  unsigned w = GetParam();
  Children readers, writers;
  readers.push_back(c_worker("read", f, w, 3 * kSections / 2));
  for (int i = 0; i < 3; ++i) writers.push_back(c_worker("cas", f, w, kSections / 2));
  expect_whole(f, w, std::move(writers), std::move(readers), 3 * kSections / 2);
}

TEST_P(SeqCTest, CWritersAgainstTheCppReaderAndCppWriters) {
  StateFile f;
  unsigned w = GetParam();
  long n = kSections / 2;
  Children readers, writers;
  readers.push_back(cpp_reader(f, w, 4 * n));
  writers.push_back(c_worker("write", f, w, n));
  writers.push_back(c_worker("cas", f, w, n));
  writers.push_back(cpp_writer(f, w, n, false));
  writers.push_back(cpp_writer(f, w, n, true));
  expect_whole(f, w, std::move(writers), std::move(readers), 4 * n);
}

TEST_P(SeqCTest, CppWritersAgainstTheCReader) {
  StateFile f;
  unsigned w = GetParam();
  long n = kSections / 2;
  Children readers, writers;
  readers.push_back(c_worker("read", f, w, 3 * n));
  for (bool cas : {false, true, true}) writers.push_back(cpp_writer(f, w, n, cas));
  expect_whole(f, w, std::move(writers), std::move(readers), 3 * n);
}

TEST_P(SeqCTest, ReadersCatchMixesWithoutSections) {
  StateFile f;
  unsigned w = GetParam();
  auto reader = c_worker("read", f, w, 400000);
  auto writer = c_worker("unlocked", f, w, 400000);
  ASSERT_EQ(writer->finish(60s).code, 0);
  Outcome o = reader->finish(60s);
  ASSERT_EQ(o.code, 0);
  long snapshots = 0, mixed = 0;
  std::istringstream(o.out) >> snapshots >> mixed;
  std::printf("control: snapshots mixed during retries eagain: %s", o.out.c_str());
  EXPECT_GT(mixed, 0) << "the oracle cannot tell a mix: " << o.out;
}

INSTANTIATE_TEST_SUITE_P(Width, SeqCTest, ::testing::Values(8U, 4U), counter_name);

}  // namespace
}  // namespace fieldfs::seqc
