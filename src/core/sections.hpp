// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"
#include "fieldfs/seqlock.hpp"

namespace fieldfs {

/// What `-o seq=PATH` names, checked: the counter's node, or why it cannot be the counter.
struct CounterCheck {
  std::uint32_t node = 0;
  std::string error;  ///< empty when the node is a counter
};

/// The field PATH names ("seq", "hdr/seq" or "hdr.seq") if it can be a sequence counter (SPEC §8):
/// an unsigned integer of 4 or 8 bytes, aligned to its size, not const, not a bit-field, sharing
/// no byte with another field (so not a union's member). `error` says why not, in one line.
CounterCheck find_counter(const Schema& schema, std::string_view path);

/// The counter's value in the bytes a .raw image or a .json document gives for it.
std::uint64_t counter_value(std::string_view bytes);

/// The daemon's side of the protocol: every access through the mount is one section. With a
/// counter (-o seq=) it is the segment's, shared with every process that maps it; without, one of
/// this process, so that writes through the mount are still serialized with each other and a read
/// never shows half of one (SPEC §5). Accesses to the counter run under the segment's fault guard:
/// a segment shrunk below the counter is EIO, never SIGBUS.
class Sections {
 public:
  /// `counter`: a leaf find_counter accepted, or null. `bound`: the longest wait on an odd
  /// counter before EAGAIN.
  Sections(const Segment& segment, const Leaf* counter, std::chrono::nanoseconds bound);
  Sections(const Sections&) = delete;
  Sections& operator=(const Sections&) = delete;

  /// Runs `copy` (returning Result<void>) as one consistent snapshot: retried while a section is
  /// open or the counter moved. EAGAIN: none within the bound; EIO; else what `copy` returned.
  template <typename F>
  Result<void> read(F&& copy) const {
    Result<void> copied;
    Result<std::uint64_t> seq = fail(std::errc::io_error);
    auto ok = segment_.guard([&] { seq = lock_.read([&] { copied = copy(); }); });
    if (!ok) return ok;
    if (!seq) return Error{seq.error()};
    return copied;
  }

  /// One write section around `stores` (returning Result<void>); with `expected`, only if the
  /// counter is that value (compare-and-set). EAGAIN, EIO, or what `stores` returned.
  template <typename F>
  Result<void> write(F&& stores, std::optional<std::uint64_t> expected = std::nullopt) {
    Result<void> done;
    auto ok = segment_.guard([&] { done = lock_.write(stores, expected); });
    if (!ok) return ok;
    return done;
  }

  /// The counter's leaf; null without -o seq=.
  const Leaf* counter() const { return counter_ ? &*counter_ : nullptr; }
  /// The segment's counter, for waiting on its futex word; null without -o seq=.
  const SeqLock* shared() const { return counter_ ? &lock_ : nullptr; }
  /// Called with the counter's value each time a wait gives up on it stuck odd.
  void on_stuck(std::function<void(std::uint64_t)> report) { lock_.on_stuck(std::move(report)); }

 private:
  const Segment& segment_;
  std::optional<Leaf> counter_;
  alignas(8) std::uint64_t own_ = 0;  ///< the counter without -o seq=
  SeqLock lock_;
};

}  // namespace fieldfs
