// SPDX-License-Identifier: MIT
#include "fieldfs/seqlock.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <ctime>

namespace fieldfs {

namespace {

/// Spins before the first futex wait: a section through the mount lasts microseconds.
constexpr int kSpins = 64;
/// The longest single futex wait while a section is open: a writer that stores the closing value
/// without FUTEX_WAKE (Python has no futex call) is noticed within this.
constexpr std::chrono::milliseconds kSlice{1};

template <typename W>
std::atomic_ref<W> word(std::byte* at) {
  return std::atomic_ref<W>(*reinterpret_cast<W*>(at));
}

timespec to_timespec(std::chrono::nanoseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
  return timespec{static_cast<time_t>(s.count()), static_cast<long>((d - s).count())};
}

void cpu_relax() { __builtin_ia32_pause(); }

}  // namespace

SeqLock::SeqLock(std::byte* counter, unsigned width, std::chrono::nanoseconds bound)
    : counter_(counter), width_(width), bound_(bound) {}

std::uint64_t SeqLock::value() const {
  if (width_ == 8) return word<std::uint64_t>(counter_).load(std::memory_order_acquire);
  return word<std::uint32_t>(counter_).load(std::memory_order_acquire);
}

std::uint32_t SeqLock::low() const { return word<std::uint32_t>(counter_).load(); }

bool SeqLock::moved(std::uint64_t s) const {
  std::atomic_thread_fence(std::memory_order_acquire);
  if (width_ == 8) return word<std::uint64_t>(counter_).load(std::memory_order_relaxed) != s;
  return word<std::uint32_t>(counter_).load(std::memory_order_relaxed) != s;
}

SeqLock::Clock::time_point SeqLock::start_bound(Clock::time_point& deadline) const {
  if (deadline == Clock::time_point{}) deadline = Clock::now() + bound_;
  return deadline;
}

bool SeqLock::wait_while(std::uint64_t odd, Clock::time_point& deadline) const {
  for (int i = 0; i < kSpins; ++i) {
    if (value() != odd) return true;
    cpu_relax();
  }
  for (;;) {
    auto left = start_bound(deadline) - Clock::now();
    if (left <= Clock::duration::zero()) break;
    wait_change(static_cast<std::uint32_t>(odd), std::min<Clock::duration>(left, kSlice));
    if (value() != odd) return true;
  }
  if (on_stuck_) on_stuck_(odd);
  return false;
}

Result<std::uint64_t> SeqLock::begin_read(Clock::time_point& deadline) const {
  std::uint64_t s = value();
  while ((s & 1) != 0) {
    if (!wait_while(s, deadline)) return fail(std::errc::resource_unavailable_try_again);
    s = value();
  }
  return s;
}

Result<std::uint64_t> SeqLock::enter(std::optional<std::uint64_t> expected) {
  Clock::time_point deadline{};  // started by the first wait: an uncontended entry reads no clock
  std::uint64_t s = value();
  for (;;) {
    if ((s & 1) != 0) {
      if (!wait_while(s, deadline)) return fail(std::errc::resource_unavailable_try_again);
      s = value();
      continue;
    }
    if (expected && s != *expected) return fail(std::errc::resource_unavailable_try_again);
    bool entered = false;
    if (width_ == 8) {
      entered =
          word<std::uint64_t>(counter_).compare_exchange_weak(s, s + 1, std::memory_order_acquire);
    } else {
      auto s32 = static_cast<std::uint32_t>(s);
      entered = word<std::uint32_t>(counter_).compare_exchange_weak(s32, s32 + 1,
                                                                    std::memory_order_acquire);
      s = s32;
    }
    if (entered) {
      // The fields' stores may not become visible before the odd counter (Boehm's seqlock
      // writer): a reader that sees one of them then sees the section open.
      std::atomic_thread_fence(std::memory_order_release);
      return s;
    }
  }
}

void SeqLock::leave(std::uint64_t s) {
  if (width_ == 8) {
    word<std::uint64_t>(counter_).store(s + 2, std::memory_order_release);
  } else {
    word<std::uint32_t>(counter_).store(static_cast<std::uint32_t>(s + 2),
                                        std::memory_order_release);
  }
  wake();
}

void SeqLock::wait_change(std::uint32_t seen, std::chrono::nanoseconds timeout) const {
  timespec ts = to_timespec(std::max(timeout, std::chrono::nanoseconds::zero()));
  ::syscall(SYS_futex, counter_, FUTEX_WAIT, seen, &ts, nullptr, 0);
}

void SeqLock::wake() const {
  ::syscall(SYS_futex, counter_, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace fieldfs
