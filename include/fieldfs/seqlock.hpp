// SPDX-License-Identifier: MIT
// The sequence counter of SPEC §8, the seqlock convention of the Linux kernel (seqcount_t, the
// `lock` word of perf_event_mmap_page), on a counter that lives in shared memory so that every
// process mapping it takes part: the daemon, Mapped<T>, a C program using fieldfs/seqlock.h.
//
// Writer: compare-and-swap the counter from even s to s + 1 (acquire), store the fields with
// atomic stores, store s + 2 (release), FUTEX_WAKE (shared) on the 4-byte word at the counter's
// offset, its low half on a little-endian 8-byte counter. Reader: load (acquire), retry while odd,
// copy with atomic loads, acquire fence, load again, retry if it moved. Waits are bounded: a writer
// that died inside a section leaves the counter odd, and nothing may hang on it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "fieldfs/result.hpp"

namespace fieldfs {

/// A sequence counter of 4 or 8 bytes in shared memory (SPEC §8). Copyable: it is a view of the
/// counter, which the memory outlives.
class SeqLock {
 public:
  using Clock = std::chrono::steady_clock;
  /// How long a reader or writer waits for an odd counter before EAGAIN (SPEC §8: bounded).
  static constexpr std::chrono::milliseconds kDefaultBound{200};

  /// The counter of `width` bytes (4 or 8) at `counter`, which is aligned to `width`.
  SeqLock(std::byte* counter, unsigned width, std::chrono::nanoseconds bound = kDefaultBound);

  /// The counter now (acquire).
  std::uint64_t value() const;
  /// The futex word: the counter's low 32 bits.
  std::uint32_t low() const;

  /// Runs `copy` as one consistent read: retried while a section is open or the counter moved
  /// around it. Returns the (even) counter the copy is consistent with. EAGAIN: no consistent
  /// copy within the bound (the counter stayed odd, or kept moving).
  template <typename F>
  Result<std::uint64_t> read(F&& copy) const {
    Clock::time_point
        deadline{};  // set at the first wait or retry: an uncontended read reads no clock
    for (;;) {
      auto begun = begin_read(deadline);
      if (!begun) return begun;
      copy();
      if (!moved(*begun)) return *begun;
      if (Clock::now() >= start_bound(deadline)) {
        return fail(std::errc::resource_unavailable_try_again);
      }
    }
  }

  /// Opens a write section: s → s + 1 from an even s, waiting (bounded) while it is odd; with
  /// `expected`, only from that value. Returns s. EAGAIN: the counter is not `expected` (at once,
  /// or once the open section closes), or stayed odd for the whole bound.
  Result<std::uint64_t> enter(std::optional<std::uint64_t> expected = std::nullopt);
  /// Closes the section `enter` opened at `s`: stores s + 2 (release) and wakes every waiter.
  void leave(std::uint64_t s);

  /// One write section around `stores` (which returns Result<void>): enter, stores, leave. The
  /// section is closed whatever `stores` returns. EAGAIN as enter; else what `stores` returned.
  template <typename F>
  Result<void> write(F&& stores, std::optional<std::uint64_t> expected = std::nullopt) {
    auto s = enter(expected);
    if (!s) return Error{s.error()};
    Result<void> done = stores();
    leave(*s);
    return done;
  }

  /// Blocks until the futex word is no longer `seen`, wake() is called, or `timeout` passes
  /// (FUTEX_WAIT, shared). Returns at once if the word differs already.
  void wait_change(std::uint32_t seen, std::chrono::nanoseconds timeout) const;
  /// Wakes every waiter on the futex word (FUTEX_WAKE, shared), in this and other processes.
  void wake() const;

  /// Called once per wait that gave up on a counter stuck odd (the value it stayed at): a writer
  /// died inside a section. The daemon logs it.
  void on_stuck(std::function<void(std::uint64_t value)> report) { on_stuck_ = std::move(report); }

 private:
  /// `deadline`, set to now + bound first if it is still unset (the epoch).
  Clock::time_point start_bound(Clock::time_point& deadline) const;
  /// Waits (bounded by `deadline`, started if unset) for an even counter; returns it. EAGAIN.
  Result<std::uint64_t> begin_read(Clock::time_point& deadline) const;
  /// After a copy: acquire fence, then whether the counter is no longer `s`.
  bool moved(std::uint64_t s) const;
  /// Waits until the counter is no longer `odd` or `deadline` passes; false on the deadline
  /// (reported through on_stuck_).
  bool wait_while(std::uint64_t odd, Clock::time_point& deadline) const;

  std::byte* counter_;
  unsigned width_;
  std::chrono::nanoseconds bound_;
  std::function<void(std::uint64_t)> on_stuck_;
};

}  // namespace fieldfs
