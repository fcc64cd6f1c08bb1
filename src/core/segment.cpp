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
#include "fieldfs/words.hpp"

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

bool equal_in(const std::byte* src, const char* expected, std::size_t n) {
  return detail::for_each_word(src, n,
                               [expected](std::size_t at, const char* bytes, std::size_t length) {
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

/// Stores the bits of src that `mask` selects (byte i of the range: byte i of mask; whole: all):
/// a word the range fills is one atomic store, any other a compare-and-swap that keeps the bits
/// outside. So a range inside one word (every bit-field storage unit that does not cross an 8-byte
/// boundary) is stored atomically.
void store_words(std::byte* dst, const char* src, std::size_t n, bool whole, std::uint64_t mask) {
  detail::store_words(dst, src, n, [whole, mask](std::size_t i) {
    return whole ? 0xffU : static_cast<unsigned>(mask >> (8 * i)) & 0xffU;
  });
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
  if (!guarded([&] { detail::copy_in(src, out.data(), out.size()); })) return shrunk();
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
