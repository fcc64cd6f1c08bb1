// SPDX-License-Identifier: MIT
// Access to the mapping. Another process may shrink the segment at any moment, so every access
// checks the current size (fstat) and runs under a SIGBUS guard for the shrink that lands between
// the check and the access: the handler jumps back and the access fails with EIO.
#include "fieldfs/segment.hpp"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/codec.hpp"

namespace fieldfs {

namespace {

thread_local sigjmp_buf* t_fault_jump = nullptr;

/// The disposition SIGBUS had before the guard: a fault that is not fieldfs's goes there.
struct sigaction g_previous {};

void on_sigbus(int sig, siginfo_t* info, void* context) {
  if (t_fault_jump != nullptr) siglongjmp(*t_fault_jump, 1);
  bool siginfo = (g_previous.sa_flags & SA_SIGINFO) != 0;
  if (siginfo && g_previous.sa_sigaction != nullptr) {
    return g_previous.sa_sigaction(sig, info, context);
  }
  if (!siginfo && g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    return g_previous.sa_handler(sig);
  }
  ::signal(sig, SIG_DFL);  // no handler (a fault cannot be ignored): die as we would have
  ::raise(sig);
}

/// Installs the guard once per process, keeping the handler it replaces to chain to.
void install_sigbus_guard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;  // NODEFER: the jump leaves SIGBUS unblocked
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, nullptr, &g_previous);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
}

/// Runs `access` over the mapping; false if it faulted (the segment shrank under it).
/// Guards nest (a read section around loads): the outer guard is restored when the inner ends.
template <typename F>
bool guarded(F&& access) {
  sigjmp_buf jump;
  sigjmp_buf* outer = t_fault_jump;
  if (sigsetjmp(jump, 0) != 0) {
    t_fault_jump = outer;
    return false;
  }
  t_fault_jump = &jump;
  access();
  t_fault_jump = outer;
  return true;
}

constexpr std::uintptr_t kWord = 8;

/// The aligned 8-byte word at address w, reached from p (at address first): pointer arithmetic,
/// not an integer-to-pointer cast.
std::atomic_ref<std::uint64_t> word_at(const std::byte* p, std::uintptr_t first, std::uintptr_t w) {
  const std::byte* at = w >= first ? p + (w - first) : p - (first - w);
  return std::atomic_ref<std::uint64_t>(
      *reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(at)));
}

/// Loads each aligned 8-byte word that n bytes at src touch with one atomic load, and hands
/// `part(at, bytes, length)` the range's bytes in it (at: their offset in the range) until part
/// returns false. Every naturally aligned scalar (and any scalar that does not cross an 8-byte
/// boundary) lies in one such word, so none is torn. The bytes of a word outside the range share
/// its page, so the load can fault only where the range itself would.
template <typename Part>
bool for_each_word(const std::byte* src, std::size_t n, Part&& part) {
  auto first = reinterpret_cast<std::uintptr_t>(src);
  std::uintptr_t end = first + n;
  for (std::uintptr_t w = first & ~(kWord - 1); w < end; w += kWord) {
    std::uint64_t v = word_at(src, first, w).load(std::memory_order_acquire);
    const char* bytes = reinterpret_cast<const char*>(&v);
    bool go = w >= first && w + kWord <= end  // a whole word: a fixed size the compiler inlines
                  ? part(w - first, bytes, kWord)
                  : part(std::max(w, first) - first, bytes + (std::max(w, first) - w),
                         std::min(w + kWord, end) - std::max(w, first));
    if (!go) return false;
  }
  return true;
}

void copy_in(const std::byte* src, char* dst, std::size_t n) {
  for_each_word(src, n, [dst](std::size_t at, const char* bytes, std::size_t length) {
    std::memcpy(dst + at, bytes, length);
    return true;
  });
}

bool equal_in(const std::byte* src, const char* expected, std::size_t n) {
  return for_each_word(src, n, [expected](std::size_t at, const char* bytes, std::size_t length) {
    return std::memcmp(expected + at, bytes, length) == 0;
  });
}

/// A 1, 2, 4 or 8-byte field at an address aligned to its size: one atomic store of its width.
template <typename T>
bool store_word(std::byte* dst, const char* src, std::size_t n) {
  if (n != sizeof(T) || reinterpret_cast<std::uintptr_t>(dst) % sizeof(T) != 0) return false;
  T v;
  std::memcpy(&v, src, sizeof v);
  std::atomic_ref<T>(*reinterpret_cast<T*>(dst)).store(v, std::memory_order_release);
  return true;
}

/// Stores the bits of src that `mask` selects (byte i of the range: byte i of mask; whole: all),
/// one aligned 8-byte word at a time: a word the range fills is one atomic store, any other a
/// compare-and-swap that keeps the bits outside. So a range inside one word (every bit-field
/// storage unit that does not cross an 8-byte boundary) is stored atomically.
void store_words(std::byte* dst, const char* src, std::size_t n, bool whole, std::uint64_t mask) {
  auto first = reinterpret_cast<std::uintptr_t>(dst);
  std::uintptr_t end = first + n;
  for (std::uintptr_t w = first & ~(kWord - 1); w < end; w += kWord) {
    std::uintptr_t from = std::max(w, first);
    std::uintptr_t to = std::min(w + kWord, end);
    unsigned char bits[kWord] = {};
    unsigned char keep[kWord] = {};
    for (std::uintptr_t a = from; a < to; ++a) {
      std::size_t i = a - first;
      bits[a - w] = static_cast<unsigned char>(src[i]);
      keep[a - w] = whole ? 0xff : static_cast<unsigned char>(mask >> (8 * i));
    }
    std::uint64_t b = 0;
    std::uint64_t m = 0;
    std::memcpy(&b, bits, sizeof b);
    std::memcpy(&m, keep, sizeof m);
    auto word = word_at(dst, first, w);
    if (m == ~std::uint64_t{0}) {
      word.store(b, std::memory_order_release);
      continue;
    }
    std::uint64_t old = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(old, (old & ~m) | (b & m), std::memory_order_acq_rel)) {
    }
  }
}

void copy_out(std::byte* dst, const char* src, std::size_t n) {
  if (store_word<std::uint8_t>(dst, src, n) || store_word<std::uint16_t>(dst, src, n) ||
      store_word<std::uint32_t>(dst, src, n) || store_word<std::uint64_t>(dst, src, n)) {
    return;
  }
  store_words(dst, src, n, true, 0);
}

}  // namespace

Segment::Segment(UniqueFd fd, std::byte* base, std::uint32_t size, bool created, bool file_backed,
                 bool read_only)
    : fd_(std::move(fd)),
      base_(base),
      size_(size),
      created_(created),
      file_backed_(file_backed),
      read_only_(read_only) {
  install_sigbus_guard();
}

Segment::Segment(Segment&& other) noexcept
    : fd_(std::move(other.fd_)),
      base_(std::exchange(other.base_, nullptr)),
      size_(other.size_),
      created_(other.created_),
      file_backed_(other.file_backed_),
      read_only_(other.read_only_),
      on_shrink_(std::move(other.on_shrink_)) {}

Segment::~Segment() {
  if (base_ != nullptr) {
    if (file_backed_ && !read_only_) ::msync(base_, size_, MS_SYNC);
    ::munmap(base_, size_);
  }
}

Result<void> Segment::check_range(std::uint64_t offset, std::uint64_t length) const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return fail(std::errc::io_error);
  if (offset + length > static_cast<std::uint64_t>(st.st_size)) return shrunk();
  if (offset + length > size_) return fail(std::errc::io_error);
  return {};
}

Error Segment::shrunk() const {
  struct stat st {};
  if (on_shrink_ && ::fstat(fd_.get(), &st) == 0)
    on_shrink_(static_cast<std::uint64_t>(st.st_size));
  return fail(std::errc::io_error);
}

Result<void> Segment::holds(std::uint32_t size) const { return check_range(0, size); }

Result<std::string> Segment::load(const Leaf& leaf) const { return bytes(leaf.offset, leaf.size); }

Result<std::string> Segment::bytes(std::uint32_t offset, std::uint32_t length) const {
  if (auto ok = check_range(offset, length); !ok) return Error{ok.error()};
  std::string out(length, '\0');
  const std::byte* src = base_ + offset;
  if (!guarded([&] { copy_in(src, out.data(), out.size()); })) return shrunk();
  return out;
}

Result<bool> Segment::holds_bytes(std::uint32_t offset, std::string_view expected) const {
  if (auto ok = check_range(offset, expected.size()); !ok) return Error{ok.error()};
  const std::byte* src = base_ + offset;
  bool equal = false;
  if (!guarded([&] { equal = equal_in(src, expected.data(), expected.size()); })) {
    return shrunk();
  }
  return equal;
}

Result<void> Segment::store(const Leaf& leaf, std::string_view bytes) {
  if (read_only_) return fail(std::errc::read_only_file_system);
  if (bytes.size() != leaf.size) return fail(std::errc::invalid_argument);
  if (auto ok = check_range(leaf.offset, leaf.size); !ok) return ok;
  std::byte* dst = base_ + leaf.offset;
  std::uint64_t mask = bit_mask(leaf);
  bool whole = leaf.bit_width == 0;
  bool ok = guarded([&] {
    if (whole) {
      copy_out(dst, bytes.data(), bytes.size());
    } else {
      store_words(dst, bytes.data(), bytes.size(), false, mask);
    }
  });
  if (!ok) return shrunk();
  return {};
}

Result<void> Segment::guard_call(void (*access)(void*), void* context) const {
  if (!guarded([&] { access(context); })) return shrunk();
  return {};
}

Result<void> Segment::sync() const {
  if (!file_backed_ || read_only_) return {};
  if (::msync(base_, size_, MS_SYNC) != 0) return fail(std::errc::io_error);
  return {};
}

}  // namespace fieldfs
