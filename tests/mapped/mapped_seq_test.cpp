// SPDX-License-Identifier: MIT
// Mapped<T> with the sequence counter (SPEC §8): snapshot, update, update_if. The oracles are the
// invariant every writer keeps (y == -x, a name that spells x), the kernel (pread of the segment
// at the offsets the compiler gives, FUTEX_WAIT) and a count that no lost update can reach.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "fieldfs/mapped.hpp"

namespace fieldfs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// The bound of the tests where writers run flat out: on a loaded machine (load 9 on 2 CPUs
/// seen) a writer can lose its CPU inside a section for longer than the default 200 ms. A stuck
/// counter has its own test.
constexpr std::chrono::nanoseconds kPatient = 10s;

struct Pos {  // a 4-byte counter first; x and y each one word, the name three
  std::uint32_t seq;
  std::int64_t x;
  std::int64_t y;
  char name[24];
};
struct Pos8 {  // an 8-byte counter in the middle
  std::int64_t x;
  std::uint64_t seq;
  char name[24];
  std::int64_t y;
};
struct Tally {
  std::uint64_t seq;
  std::uint64_t n;
};
#pragma pack(push, 1)
struct Skewed {
  char c;
  std::uint32_t seq;
};
#pragma pack(pop)
struct Kinds {
  int i;
  std::uint16_t u16;
  std::uint32_t u32;
  const std::uint32_t c32;
  std::uint64_t u64;
  std::int64_t i64;
  float f;
};

static_assert(std::is_constructible_v<Mapped<Kinds>, std::string_view, std::uint32_t Kinds::*>);
static_assert(  // the daemon refuses a const counter (its file is read-only anyway)
    !std::is_constructible_v<Mapped<Kinds>, std::string_view, const std::uint32_t Kinds::*>);
static_assert(std::is_constructible_v<Mapped<Kinds>, std::string_view, std::uint64_t Kinds::*>);
static_assert(!std::is_constructible_v<Mapped<Kinds>, std::string_view, int Kinds::*>);
static_assert(!std::is_constructible_v<Mapped<Kinds>, std::string_view, std::uint16_t Kinds::*>);
static_assert(!std::is_constructible_v<Mapped<Kinds>, std::string_view, std::int64_t Kinds::*>);
static_assert(!std::is_constructible_v<Mapped<Kinds>, std::string_view, float Kinds::*>);

/// The state writer i leaves: x = i, y = -i, the name spells i.
template <typename T>
void write_state(T& p, std::int64_t i) {
  p.x = i;
  p.y = -i;
  std::snprintf(p.name, sizeof p.name, "i=%lld", static_cast<long long>(i));
}

/// Whether p is a state some writer left (never half of one and half of another).
template <typename T>
bool consistent(const T& p) {
  char expect[sizeof p.name] = {};
  std::snprintf(expect, sizeof expect, "i=%lld", static_cast<long long>(p.x));
  return p.y == -p.x && std::strncmp(p.name, expect, sizeof expect) == 0;
}

/// Values whose words change entirely (sign flips) and partly (low bytes only).
std::int64_t value(int writer, std::int64_t k) {
  std::int64_t v = writer * 1000000000LL + k;
  return (k & 1) != 0 ? -v : v;
}

/// Processes forked to run a body until told to stop (or done); all stopped and reaped when it
/// goes, so a failing test leaves none behind. Each child dies after 60 s whatever happens.
class Children {
 public:
  Children()
      : stop_(static_cast<std::atomic<int>*>(::mmap(nullptr, sizeof(std::atomic<int>),
                                                    PROT_READ | PROT_WRITE,
                                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0))) {
    new (stop_) std::atomic<int>(0);
  }
  ~Children() {
    reap();
    ::munmap(stop_, sizeof *stop_);
  }
  /// Forks a child that exits with body(stop flag).
  template <typename F>
  void spawn(F body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::alarm(60);
      int rc = 1;
      try {
        rc = body(*stop_);
      } catch (...) {
        rc = 3;
      }
      ::_exit(rc);
    }
    ASSERT_GT(pid, 0);
    pids_.push_back(pid);
  }
  /// Tells the children to stop, waits for them; how many exited with status 0.
  int reap() {
    stop_->store(1);
    int ok = 0;
    for (pid_t pid : pids_) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
    }
    pids_.clear();
    return ok;
  }

 private:
  std::atomic<int>* stop_;
  std::vector<pid_t> pids_;
};

class MappedSeqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-mapped-seq-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  /// `size` bytes of the segment at `offset`, read by the kernel, not through a mapping.
  std::string pread_at(std::size_t offset, std::size_t size) const {
    int fd = ::shm_open(name_.c_str(), O_RDONLY, 0);
    std::string out(size, '\0');
    EXPECT_EQ(::pread(fd, out.data(), size, static_cast<off_t>(offset)),
              static_cast<ssize_t>(size));
    ::close(fd);
    return out;
  }
  template <typename V>
  V pread_value(std::size_t offset) const {
    V v;
    std::memcpy(&v, pread_at(offset, sizeof v).data(), sizeof v);
    return v;
  }
  template <typename V>
  void pwrite_value(std::size_t offset, V v) const {
    int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
    EXPECT_EQ(::pwrite(fd, &v, sizeof v, static_cast<off_t>(offset)), ssize_t{sizeof v});
    ::close(fd);
  }

  /// Takes snapshots while writers update, at least kSnapshots and until kChanges of them showed
  /// a state other than the one before (a busy machine may run the writers in few time slices),
  /// for 20 s at most; fails on a mixed state. Returns the changes seen.
  template <typename T>
  int count_changes(const Mapped<T>& m) {
    constexpr int kSnapshots = 200000;
    constexpr int kChanges = 1000;
    auto deadline = Clock::now() + 20s;
    int changes = 0;
    std::int64_t last = 0;
    for (int i = 0; i < kSnapshots || (changes < kChanges && Clock::now() < deadline); ++i) {
      T p = m.snapshot();
      EXPECT_TRUE(consistent(p)) << "x " << p.x << " y " << p.y << " name " << p.name;
      if (!consistent(p)) break;
      changes += p.x != last ? 1 : 0;
      last = p.x;
    }
    return changes;
  }

  std::string name_;
};

TEST_F(MappedSeqTest, UpdateStoresWhatFnChangedWhereTheCompilerPutsItAndAdvancesTheCounter) {
  Mapped<Pos> m{name_, &Pos::seq};
  m.update([](Pos& p) {
    write_state(p, -42);
    p.seq = 77;  // ignored: only the protocol moves the counter
  });
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Pos, seq)), 2U);
  EXPECT_EQ(pread_value<std::int64_t>(offsetof(Pos, x)), -42);
  EXPECT_EQ(pread_value<std::int64_t>(offsetof(Pos, y)), 42);
  EXPECT_EQ(pread_at(offsetof(Pos, name), 6), std::string("i=-42\0", 6));
  m.update([](Pos& p) { EXPECT_EQ(p.x, -42) << "fn gets the current state"; });
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Pos, seq)), 4U);
}

TEST_F(MappedSeqTest, SnapshotReadsWhatTheKernelWroteAtTheCompilersOffsets) {
  Mapped<Pos8> m{name_, &Pos8::seq};
  pwrite_value<std::int64_t>(offsetof(Pos8, x), 7);
  pwrite_value<std::int64_t>(offsetof(Pos8, y), -7);
  pwrite_value<std::uint64_t>(offsetof(Pos8, seq), 10);
  Pos8 p = m.snapshot();
  EXPECT_EQ(p.x, 7);
  EXPECT_EQ(p.y, -7);
  EXPECT_EQ(p.seq, 10U) << "the counter the copy is consistent with";
  auto r = m.try_snapshot();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->x, 7);
}

TEST_F(MappedSeqTest, APartlyChangedWordKeepsTheBytesOthersStoredMeanwhile) {
  struct Flags {
    std::uint32_t seq;
    std::uint8_t a;
    std::uint8_t b;  // shares the counter's word with a
  };
  Mapped<Flags> m{name_, &Flags::seq};
  Mapped<Flags> plain{name_};
  m.update([&](Flags& f) {
    f.a = 1;
    plain.store(&Flags::b, std::uint8_t{9});  // a writer outside the protocol
  });
  EXPECT_EQ(pread_value<std::uint8_t>(offsetof(Flags, a)), 1);
  EXPECT_EQ(pread_value<std::uint8_t>(offsetof(Flags, b)), 9) << "update stored a byte it kept";
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Flags, seq)), 2U);
}

TEST_F(MappedSeqTest, AThrowingFnStoresNothingAndClosesTheSection) {
  Mapped<Pos> m{name_, &Pos::seq};
  EXPECT_THROW(m.update([](Pos& p) {
    p.x = 5;
    throw std::runtime_error("changed its mind");
  }),
               std::runtime_error);
  EXPECT_EQ(pread_value<std::int64_t>(offsetof(Pos, x)), 0);
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Pos, seq)), 2U);
  m.update([](Pos& p) { p.x = 6; });
  EXPECT_EQ(m.snapshot().x, 6);
}

TEST_F(MappedSeqTest, UpdateIfStoresOnlyFromTheCounterOfTheSnapshot) {
  Mapped<Pos> m{name_, &Pos::seq};
  Pos seen = m.snapshot();
  m.update([](Pos& p) { write_state(p, 1); });
  bool called = false;
  EXPECT_FALSE(m.update_if(seen.seq, [&](Pos& p) {
    called = true;
    write_state(p, 2);
  }));
  EXPECT_FALSE(called);
  EXPECT_EQ(m.snapshot().x, 1);
  seen = m.snapshot();
  EXPECT_TRUE(m.update_if(seen.seq, [](Pos& p) { write_state(p, 3); }));
  EXPECT_EQ(m.snapshot().x, 3);
  EXPECT_EQ(m.snapshot().seq, seen.seq + 2);
}

/// Threads running body(w, stop token) for w = 1..n; stopped and joined when it goes (also when
/// the test throws). An exception a thread ends with is counted, not fatal.
class Threads {
 public:
  template <typename F>
  Threads(int n, F body) {
    for (int w = 1; w <= n; ++w) {
      threads_.emplace_back([w, body](const std::stop_token& stop) {
        try {
          body(w, stop);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "thread " << w << ": " << e.what();
        }
      });
    }
  }
  void join() {
    for (auto& t : threads_) t.join();
  }

 private:
  std::vector<std::jthread> threads_;
};

TEST_F(MappedSeqTest, ThreadSnapshotsNeverSeeAMixedState) {
  Mapped<Pos> reader{name_, &Pos::seq, SegmentOptions{}, kPatient};
  reader.update([](Pos& p) { write_state(p, 0); });
  Threads writers(2, [&](int w, const std::stop_token& stop) {
    Mapped<Pos> m{name_, &Pos::seq, SegmentOptions{}, kPatient};
    for (std::int64_t k = 0; !stop.stop_requested(); ++k) {
      m.update([&](Pos& p) { write_state(p, value(w, k)); });
    }
  });
  int changes = count_changes(reader);
  EXPECT_GE(changes, 1000) << "the writers hardly ran: the test proved little";
}

TEST_F(MappedSeqTest, WhatFnDoesToTheCounterIsIgnored) {
  constexpr int kEach = 20000;
  Mapped<Pos> m{name_, &Pos::seq};
  Threads writers(2, [&](int w, const std::stop_token&) {
    Mapped<Pos> own{name_, &Pos::seq, SegmentOptions{}, kPatient};
    for (int k = 0; k < kEach; ++k) {
      own.update([&](Pos& p) {
        write_state(p, value(w, k));
        p.seq = 0;  // were it stored, the other writer could enter this open section
      });
    }
  });
  writers.join();
  EXPECT_EQ(m.snapshot().seq, 2U * 2 * kEach) << "two per update, none lost";
  EXPECT_TRUE(consistent(m.snapshot()));
}

TEST_F(MappedSeqTest, ProcessSnapshotsNeverSeeAMixedState) {
  Mapped<Pos8> reader{name_, &Pos8::seq, SegmentOptions{}, kPatient};
  reader.update([](Pos8& p) { write_state(p, 0); });
  Children children;
  for (int w = 1; w <= 2; ++w) {
    children.spawn([&, w](std::atomic<int>& stop) {
      Mapped<Pos8> m{name_, &Pos8::seq, SegmentOptions{}, kPatient};
      for (std::int64_t k = 0; stop.load() == 0; ++k) {
        m.update([&](Pos8& p) { write_state(p, value(w, k)); });
      }
      return 0;
    });
  }
  int changes = count_changes(reader);
  EXPECT_EQ(children.reap(), 2);
  EXPECT_GE(changes, 1000) << "the writers hardly ran: the test proved little";
}

/// Adds `count` to Tally::n, one compare-and-set at a time from a snapshot's n.
int increment(const std::string& name, int count) {
  Mapped<Tally> m{name, &Tally::seq, SegmentOptions{}, kPatient};
  for (int i = 0; i < count;) {
    Tally seen = m.snapshot();
    if (m.update_if(seen.seq, [&](Tally& t) { t.n = seen.n + 1; })) ++i;
  }
  return 0;
}

TEST_F(MappedSeqTest, UpdateIfIncrementsFromSeveralProcessesLoseNone) {
  constexpr int kEach = 5000;
  Mapped<Tally> m{name_, &Tally::seq};
  {
    Children children;
    for (int w = 0; w < 3; ++w)
      children.spawn([&](std::atomic<int>&) { return increment(name_, kEach); });
    increment(name_, kEach);
    EXPECT_EQ(children.reap(), 3);
  }
  EXPECT_EQ(m.snapshot().n, 4U * kEach);
  EXPECT_EQ(pread_value<std::uint64_t>(offsetof(Tally, n)), 4U * kEach);
}

TEST_F(MappedSeqTest, UpdateIfIncrementsFromSeveralThreadsLoseNone) {
  constexpr int kEach = 5000;
  Mapped<Tally> m{name_, &Tally::seq};
  Threads threads(3, [&](int, const std::stop_token&) { increment(name_, kEach); });
  threads.join();
  EXPECT_EQ(m.snapshot().n, 3U * kEach);
}

/// How long `op` took, expecting it to throw std::system_error with EAGAIN.
template <typename F>
Clock::duration eagain_after(F op) {
  auto start = Clock::now();
  try {
    op();
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::resource_unavailable_try_again);
  }
  return Clock::now() - start;
}

TEST_F(MappedSeqTest, AStuckOddCounterFailsWithEAGAINWithinTheBound) {
  Mapped<Pos> m{name_, &Pos::seq, SegmentOptions{}, 50ms};
  std::atomic_ref<std::uint32_t>(m->seq).store(7);  // a writer died inside a section
  auto took = eagain_after([&] { (void)m.snapshot(); });
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 550ms);
  took = eagain_after([&] { m.update([](Pos& p) { p.x = 1; }); });
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 550ms);
  EXPECT_FALSE(m.update_if(6, [](Pos& p) { p.x = 1; }));
  auto r = m.try_snapshot();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(pread_value<std::int64_t>(offsetof(Pos, x)), 0) << "nothing stored";
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Pos, seq)), 7U) << "nor the counter moved";

  Mapped<Pos> fallback{name_, &Pos::seq};  // SeqLock::kDefaultBound
  took = eagain_after([&] { (void)fallback.snapshot(); });
  EXPECT_GE(took, SeqLock::kDefaultBound);
  EXPECT_LT(took, SeqLock::kDefaultBound + 500ms);
}

TEST_F(MappedSeqTest, UpdateWakesAPollerAtOnce) {
  Mapped<Pos> m{name_, &Pos::seq};
  SeqLock poller(reinterpret_cast<std::byte*>(&m->seq), 4);
  std::uint32_t seen = poller.low();
  std::thread t([&] {
    std::this_thread::sleep_for(50ms);  // let the poller sleep in FUTEX_WAIT first
    m.update([](Pos& p) { p.x = 1; });
  });
  auto start = Clock::now();
  poller.wait_change(seen, 5s);
  auto took = Clock::now() - start;
  t.join();
  EXPECT_LT(took, 2s) << "the poller slept until its timeout: no FUTEX_WAKE";
  EXPECT_EQ(poller.low(), seen + 2);
}

TEST_F(MappedSeqTest, UpdateOnAReadOnlyMappingFailsWithEROFS) {
  { Mapped<Pos> create{name_}; }
  SegmentOptions o;
  o.read_only = true;
  Mapped<Pos> m{name_, &Pos::seq, o};
  EXPECT_EQ(m.snapshot().x, 0) << "reading is fine";
  try {
    m.update([](Pos& p) { p.x = 1; });
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::read_only_file_system);
  }
  auto r = m.try_update([](Pos& p) { p.x = 1; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::read_only_file_system);
  EXPECT_EQ(pread_value<std::uint32_t>(offsetof(Pos, seq)), 0U) << "no section was opened";
}

TEST_F(MappedSeqTest, AMisalignedCounterIsRefusedWithEINVAL) {
  auto r = Mapped<Skewed>::open(name_, &Skewed::seq);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  try {
    Mapped<Skewed> m{name_, &Skewed::seq};
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
  }
}

TEST_F(MappedSeqTest, WithoutACounterSnapshotAndUpdateFailWithEINVAL) {
  Mapped<Pos> m{name_};
  auto r = m.try_snapshot();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  auto u = m.try_update([](Pos&) {});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace fieldfs
