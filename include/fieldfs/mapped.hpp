// SPDX-License-Identifier: MIT
// Mapped<T>: the segment fieldfs serves, mapped into this process as a T. Opening is not
// copied from the daemon: it is Segment::open itself (libfieldfs_core.a, linked through the
// fieldfs::mapped CMake target or `pkg-config --libs fieldfs`), so a name, a path or `file:`
// means what it means to fieldfs, a missing segment is created with exactly `mode`, a smaller
// one is grown and allocated, a larger one is never shrunk. Field access follows the daemon's
// rule (segment.cpp: copy_in/copy_out), inlined here because a load must cost a load: a member
// of 1, 2, 4 or 8 bytes at an address aligned to its size is one atomic load or store
// (acquire/release), anything else a memcpy. Opening installs the daemon's SIGBUS guard (once per
// process): a fault outside fieldfs's own accesses goes to the handler SIGBUS had before (plain
// or SA_SIGINFO), and is fatal if there was none, as it would be without the guard.
// Opened with the struct's sequence counter (SPEC §8), it takes part in the protocol through
// SeqLock, the daemon's own: snapshot() is one consistent read, update() one write section, each
// copying or storing the struct word by word as the daemon does (fieldfs/words.hpp).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "fieldfs/result.hpp"
#include "fieldfs/segment.hpp"
#include "fieldfs/seqlock.hpp"
#include "fieldfs/words.hpp"

namespace fieldfs {

namespace detail {

/// What load() returns for a member of type M: M without const, or std::array for a C array.
template <typename M>
struct MemberValue {
  using type = std::remove_cv_t<M>;
};
template <typename E, std::size_t N>
struct MemberValue<E[N]> {
  using type = std::array<typename MemberValue<E>::type, N>;
};

/// The unsigned word the daemon uses for an n-byte field; void if none.
template <std::size_t N>
using Word = std::conditional_t<
    N == 1, std::uint8_t,
    std::conditional_t<N == 2, std::uint16_t,
                       std::conditional_t<N == 4, std::uint32_t,
                                          std::conditional_t<N == 8, std::uint64_t, void>>>>;

inline bool aligned_to(const void* p, std::size_t n) {
  return reinterpret_cast<std::uintptr_t>(p) % n == 0;
}

}  // namespace detail

/// A member type that can be the sequence counter (SPEC §8): an unsigned integer of 4 or 8 bytes
/// (std::is_unsigned holds for no floating-point type), not const: the daemon refuses one.
template <typename C>
concept SequenceCounter = (sizeof(C) == 4 || sizeof(C) == 8) &&
                          !std::is_const_v<C> && std::is_unsigned_v<C>;

/// The value type of member M of a mapped struct (C arrays become std::array).
template <typename M>
using member_value_t = typename detail::MemberValue<M>::type;

/// A fieldfs segment mapped as a T, shared byte for byte with the daemon and every other mapper.
/// Move-only; unmaps on destruction (and msyncs a file-backed segment). Never unlinks.
template <typename T>
class Mapped {
  static_assert(std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>,
                "Mapped<T> needs a C struct: trivially copyable, standard layout");
  static_assert(sizeof(T) <= (1U << 20), "fieldfs serves structs of up to 1 MiB");

 public:
  /// Opens or creates the segment SOURCE names (`such_foo`, `shm:such_foo`, `/path/file`,
  /// `file:PATH`) as fieldfs would with the same `mode`, `nocreate` and `ro`. Throws
  /// std::system_error with the errno of Segment::open: ENOENT, ELOOP, EISDIR, ENODEV, ENOSPC,
  /// EACCES, EINVAL, ENAMETOOLONG; EIO: a read-only segment shorter than sizeof(T).
  explicit Mapped(std::string_view source, const SegmentOptions& options = {})
      : Mapped(unwrap(open(source, options))) {}
  explicit Mapped(const Source& source, const SegmentOptions& options = {})
      : Mapped(unwrap(open(source, options))) {}

  /// The same without exceptions. options.size is ignored: it is sizeof(T).
  static Result<Mapped> open(std::string_view source, SegmentOptions options = {}) {
    auto parsed = parse_source(source);
    if (!parsed) return Error{parsed.error()};
    return open(*parsed, options);
  }
  static Result<Mapped> open(const Source& source, SegmentOptions options = {}) {
    options.size = static_cast<std::uint32_t>(sizeof(T));
    auto segment = Segment::open(source, options);
    if (!segment) return Error{segment.error()};
    // A read-only segment is never grown: a short one would die of SIGBUS at its first load.
    if (auto ok = segment->holds(options.size); !ok) return Error{ok.error()};
    return Mapped(std::move(*segment), options.read_only);
  }

  /// Opens SOURCE as above with `counter` as the struct's sequence counter (SPEC §8), which
  /// snapshot and update need: an unsigned member of 4 or 8 bytes (SequenceCounter: else it does
  /// not compile) aligned to its size (else EINVAL). `bound`: how long they wait for a section
  /// that another writer holds open before EAGAIN.
  template <SequenceCounter C>
  explicit Mapped(std::string_view source, C T::*counter, const SegmentOptions& options = {},
                  std::chrono::nanoseconds bound = SeqLock::kDefaultBound)
      : Mapped(unwrap(open(source, counter, options, bound))) {}
  template <SequenceCounter C>
  explicit Mapped(const Source& source, C T::*counter, const SegmentOptions& options = {},
                  std::chrono::nanoseconds bound = SeqLock::kDefaultBound)
      : Mapped(unwrap(open(source, counter, options, bound))) {}

  /// The same without exceptions.
  template <SequenceCounter C>
  static Result<Mapped> open(std::string_view source, C T::*counter, SegmentOptions options = {},
                             std::chrono::nanoseconds bound = SeqLock::kDefaultBound) {
    auto parsed = parse_source(source);
    if (!parsed) return Error{parsed.error()};
    return open(*parsed, counter, options, bound);
  }
  template <SequenceCounter C>
  static Result<Mapped> open(const Source& source, C T::*counter, SegmentOptions options = {},
                             std::chrono::nanoseconds bound = SeqLock::kDefaultBound) {
    auto m = open(source, options);
    if (!m) return m;
    const auto* at = reinterpret_cast<const std::byte*>(&(m->get()->*counter));
    if (!detail::aligned_to(at, sizeof(C))) return fail(std::errc::invalid_argument);
    m->counter_ = static_cast<std::size_t>(at - m->segment_.data());
    m->counter_width_ = sizeof(C);
    m->lock_.emplace(m->segment_.data() + m->counter_, m->counter_width_, bound);
    return m;
  }

  Mapped(Mapped&&) noexcept = default;
  Mapped& operator=(Mapped&&) = delete;

  /// The struct in the mapping. Plain accesses through it are not atomic; use load and store
  /// for fields that other processes change.
  T* get() const { return reinterpret_cast<T*>(segment_.data()); }
  T* operator->() const { return get(); }

  /// Reads one member the way fieldfs reads its file: one atomic (acquire) load if it has
  /// 1, 2, 4 or 8 bytes and is aligned to its size, else a memcpy.
  template <typename M>
  member_value_t<M> load(M T::*member) const {
    static_assert(std::is_trivially_copyable_v<M>, "a member of a C struct");
    member_value_t<M> out;
    static_assert(sizeof out == sizeof(M));
    const void* src = &(get()->*member);
    using W = detail::Word<sizeof(M)>;
    if constexpr (!std::is_void_v<W>) {
      if (detail::aligned_to(src, sizeof(M))) {
        W w = std::atomic_ref<W>(*static_cast<W*>(const_cast<void*>(src)))
                  .load(std::memory_order_acquire);
        std::memcpy(&out, &w, sizeof w);
        return out;
      }
    }
    std::memcpy(&out, src, sizeof out);
    return out;
  }

  /// Sets one member the way a write to its file does: one atomic (release) store if it has
  /// 1, 2, 4 or 8 bytes and is aligned to its size, else a memcpy. Throws std::system_error
  /// (EROFS) on a read-only mapping.
  template <typename M>
  void store(M T::*member, const std::type_identity_t<member_value_t<M>>& value) {
    static_assert(std::is_trivially_copyable_v<M>, "a member of a C struct");
    static_assert(!std::is_const_v<M>, "a const member is read-only, as its file is (EACCES)");
    static_assert(sizeof value == sizeof(M));
    if (read_only_) throw std::system_error(std::make_error_code(std::errc::read_only_file_system));
    if constexpr (!std::is_const_v<M>) {
      void* dst = &(get()->*member);
      using W = detail::Word<sizeof(M)>;
      if constexpr (!std::is_void_v<W>) {
        if (detail::aligned_to(dst, sizeof(M))) {
          W w;
          std::memcpy(&w, &value, sizeof w);
          std::atomic_ref<W>(*static_cast<W*>(dst)).store(w, std::memory_order_release);
          return;
        }
      }
      std::memcpy(dst, &value, sizeof value);
    }
  }

  /// A consistent copy of the struct: one read of SPEC §8, retried while a section is open or the
  /// counter moved around it, each aligned 8-byte word with one atomic load. Its counter member
  /// is the (even) counter the copy is consistent with, for update_if. EAGAIN: no consistent copy
  /// within the bound (a writer died inside a section); EINVAL: opened without a counter.
  Result<T> try_snapshot() const {
    if (!lock_) return fail(std::errc::invalid_argument);
    std::array<char, sizeof(T)> bytes;
    auto read = lock_->read([&] { detail::copy_in(segment_.data(), bytes.data(), bytes.size()); });
    if (!read) return Error{read.error()};
    return std::bit_cast<T>(bytes);
  }
  /// try_snapshot, throwing std::system_error.
  T snapshot() const { return unwrap(try_snapshot()); }

  /// One write section of SPEC §8: `fn(T&)` gets a copy of the struct taken inside it, and the
  /// bytes fn changed are stored back, each aligned 8-byte word it changed entirely with one
  /// atomic store, partly with a compare-and-swap that keeps the others. What fn does to the
  /// counter member is ignored: only the protocol moves it. With `expected`, enters only from that
  /// counter. If fn throws, nothing is stored; the section closes and wakes pollers either way.
  /// EROFS: a read-only mapping; EINVAL: no counter; EAGAIN: as SeqLock::enter.
  template <typename F>
  Result<void> try_update(F&& fn, std::optional<std::uint64_t> expected = std::nullopt) {
    if (!lock_) return fail(std::errc::invalid_argument);
    if (read_only_) return fail(std::errc::read_only_file_system);
    auto s = lock_->enter(expected);
    if (!s) return Error{s.error()};
    Section section{*lock_, *s};
    alignas(T) unsigned char before[sizeof(T)];
    alignas(T) unsigned char after[sizeof(T)];  // provides the storage of the T that fn changes
    detail::copy_in(segment_.data(), reinterpret_cast<char*>(before), sizeof(T));
    std::memcpy(after, before, sizeof(T));
    fn(*std::launder(reinterpret_cast<T*>(after)));
    std::memcpy(after + counter_, before + counter_, counter_width_);
    detail::store_words(segment_.data(), reinterpret_cast<const char*>(after), sizeof(T),
                        [&](std::size_t i) { return before[i] == after[i] ? 0U : 0xffU; });
    return {};
  }
  /// try_update, throwing std::system_error (EROFS, EINVAL, EAGAIN).
  template <typename F>
  void update(F&& fn) {
    check(try_update(std::forward<F>(fn)));
  }
  /// Compare-and-set: try_update from `expected_seq` only (the counter member of a snapshot).
  /// False, storing nothing, if the counter is not that (it moved since the snapshot, or a section
  /// stayed open for the whole bound). Throws std::system_error (EROFS, EINVAL).
  template <typename F>
  bool update_if(std::uint64_t expected_seq, F&& fn) {
    auto r = try_update(std::forward<F>(fn), expected_seq);
    if (!r && r.error() == std::errc::resource_unavailable_try_again) return false;
    check(r);
    return true;
  }

  /// Flushes a file-backed segment to its file (msync); nothing to do for shm. EIO.
  Result<void> sync() const { return segment_.sync(); }
  /// Whether opening created the segment.
  bool created() const { return segment_.created(); }
  /// The Segment underneath, for Leaf-based access (Segment::load/store return EIO, never
  /// SIGBUS, when another process shrank the segment).
  const Segment& segment() const { return segment_; }

 private:
  Mapped(Segment segment, bool read_only) : segment_(std::move(segment)), read_only_(read_only) {}

  /// Closes the write section it was made for when it goes, however the update ends.
  struct Section {
    SeqLock& lock;
    std::uint64_t s;
    ~Section() { lock.leave(s); }
  };

  template <typename V>
  static V unwrap(Result<V> r) {
    check(r);
    return std::move(r).value();
  }
  template <typename R>
  static void check(const R& r) {
    if (!r) throw std::system_error(std::make_error_code(r.error()));
  }

  Segment segment_;
  bool read_only_ = false;
  std::optional<SeqLock> lock_;  ///< with a counter: the protocol on it
  std::size_t counter_ = 0;      ///< the counter's offset in T
  unsigned counter_width_ = 0;
};

}  // namespace fieldfs
