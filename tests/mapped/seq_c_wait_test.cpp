// SPDX-License-Identifier: MIT
// fieldfs/seqlock.h's waits across processes: a counter stuck odd fails every call within the
// bound (timed here, not by the header's clock); write_end wakes a waiter blocked on the shared
// futex in another process (a FUTEX_WAIT of 5 s, which only a shared FUTEX_WAKE ends early);
// and examples/seq_writer.c, the docs' recipe, does what it says.
#include <gtest/gtest.h>

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
using Clock = std::chrono::steady_clock;

std::unique_ptr<Child> c_worker(const char* role, StateFile& f, unsigned width,
                                std::uint64_t arg = 0) {
  return std::make_unique<Child>(std::vector<std::string>{
      FIELDFS_SEQ_WORKER, role, f.path(), std::to_string(width), std::to_string(arg)});
}

void set_counter(StateFile& f, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(f.state().seq).store(v);
}

/// A state file whose counter has the parameter's width, and a C++ SeqLock on it.
class SeqCWaitTest : public ::testing::TestWithParam<unsigned> {
 protected:
  StateFile f;
  unsigned w = GetParam();
  SeqLock lock{f.counter(), w, 5s};
};

TEST_P(SeqCWaitTest, AStuckOddCounterFailsEveryCallWithinTheBound) {
  std::uint64_t odd = w == 8 ? 7 : 0xFFFFFFFFU;  // a writer died inside a section
  set_counter(f, odd);
  auto start = Clock::now();
  Outcome o = c_worker("stuck", f, w, 50)->finish(20s);
  auto took = Clock::now() - start;
  ASSERT_EQ(o.code, 0) << o.out;
  std::printf("stuck (result ms) x 4 (read_begin snapshot write_begin write_begin_if): %s",
              o.out.c_str());
  std::istringstream in(o.out);
  for (int call = 0; call < 4; ++call) {
    int rc = -1;
    long ms = -1;
    in >> rc >> ms;
    EXPECT_EQ(rc, EAGAIN) << "call " << call;
    EXPECT_GE(ms, 49) << "call " << call;  // whole milliseconds on both ends
    EXPECT_LT(ms, 1000) << "call " << call;
  }
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(f.state().seq, odd);              // no call entered from an odd value
  std::uint64_t even = w == 8 ? odd + 1 : 0;  // the recovery: make it even
  set_counter(f, even);
  EXPECT_EQ(c_worker("write", f, w, 1)->finish(10s).code, 0);
  EXPECT_EQ(f.state().seq, even + 2);
  EXPECT_EQ(f.state().x, 1);
}

TEST_P(SeqCWaitTest, WriteEndWakesAFutexWaiterInAnotherProcess) {
  auto s = lock.enter();
  ASSERT_TRUE(s);
  auto c_waiter = c_worker("wait", f, w);
  std::uint32_t seen = lock.low();
  auto futex_waiter = std::make_unique<Child>([counter = f.counter(), width = w, seen] {
    auto t0 = Clock::now();
    SeqLock(counter, width).wait_change(seen, 5s);  // FUTEX_WAIT, shared, 5 s
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    std::printf("%lld\n", static_cast<long long>(ms));
    return 0;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(c_waiter->running());
  EXPECT_TRUE(futex_waiter->running());
  auto closed = Clock::now();
  ASSERT_EQ(c_worker("end", f, w, *s)->finish(10s).code, 0);  // C's write_end, another process
  Outcome futex = futex_waiter->finish(10s);
  auto woken = Clock::now() - closed;
  Outcome c = c_waiter->finish(10s);
  std::printf("futex waiter returned after %s", futex.out.c_str());
  EXPECT_EQ(futex.code, 0);
  EXPECT_LT(woken, 2s) << "a shared FUTEX_WAIT was not woken by write_end";
  EXPECT_EQ(c.code, 0);
  EXPECT_EQ(c.out, std::to_string(*s + 2) + "\n");
}

TEST_P(SeqCWaitTest, CWaitersEnterAndReadOnceTheCppSectionCloses) {
  auto s = lock.enter();
  ASSERT_TRUE(s);
  auto reader = c_worker("wait", f, w);
  auto writer = c_worker("write", f, w, 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(reader->running());
  EXPECT_TRUE(writer->running());
  lock.leave(*s);
  EXPECT_EQ(writer->finish(10s).code, 0);
  Outcome r = reader->finish(10s);
  EXPECT_EQ(r.code, 0);
  std::uint64_t got = std::stoull(r.out.empty() ? "1" : r.out);
  EXPECT_EQ(got % 2, 0U);
  EXPECT_GE(got, *s + 2);
  EXPECT_EQ(lock.value(), *s + 4);
  EXPECT_EQ(f.state().x, 1);
}

INSTANTIATE_TEST_SUITE_P(Width, SeqCWaitTest, ::testing::Values(8U, 4U), counter_name);

/// examples/seq_writer.c's struct pos in a segment of its own, removed at the end.
class PosSegment {
 public:
  PosSegment() {
    int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::ftruncate(fd, 12) != 0) throw std::runtime_error("shm_open");
    void* p = ::mmap(nullptr, 12, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    pos_ = static_cast<std::uint32_t*>(p);
  }
  ~PosSegment() {
    ::munmap(pos_, 12);
    ::shm_unlink(name_.c_str());
  }
  PosSegment(const PosSegment&) = delete;
  PosSegment& operator=(const PosSegment&) = delete;

  /// Starts seq_writer ARGS on the segment.
  std::unique_ptr<Child> start(std::vector<std::string> args) const {
    args.insert(args.begin(), {FIELDFS_SEQ_WRITER, name_});
    return std::make_unique<Child>(args);
  }
  /// seq, x, y as the mapping holds them.
  std::string words() const {
    return std::to_string(pos_[0]) + " " + std::to_string(static_cast<std::int32_t>(pos_[1])) +
           " " + std::to_string(static_cast<std::int32_t>(pos_[2]));
  }
  void set_counter(std::uint32_t v) { std::atomic_ref<std::uint32_t>(pos_[0]).store(v); }

 private:
  std::string name_ = "fieldfs_seq_writer_" + std::to_string(::getpid());
  std::uint32_t* pos_ = nullptr;
};

TEST(SeqWriterExample, SetsAddsAndGetsInSectionsAndGivesUpOnAStuckCounter) {
  PosSegment seg;
  EXPECT_EQ(seg.start({"set", "3", "4"})->finish(10s).code, 0);
  EXPECT_EQ(seg.words(), "2 3 4");
  std::vector<std::unique_ptr<Child>> adders;
  for (int i = 0; i < 8; ++i) adders.push_back(seg.start({"add", "1", "-1"}));
  for (auto& a : adders) EXPECT_EQ(a->finish(10s).code, 0);
  EXPECT_EQ(seg.words(), "18 11 -4");  // 8 compare-and-set sections, none lost
  Outcome got = seg.start({"get"})->finish(10s);
  EXPECT_EQ(got.code, 0);
  EXPECT_EQ(got.out, "x=11 y=-4 seq=18\n");
  seg.set_counter(19);  // a writer died inside a section
  auto t0 = Clock::now();
  Outcome stuck = seg.start({"set", "0", "0"})->finish(10s);
  EXPECT_EQ(stuck.code, 1);
  EXPECT_LT(Clock::now() - t0, 2s);  // the default bound is 200 ms
  EXPECT_EQ(seg.words(), "19 11 -4");
}

}  // namespace
}  // namespace fieldfs::seqc
