// SPDX-License-Identifier: MIT
// Access to the mapping. Another process may shrink the segment at any moment, so every access
// checks the current size (fstat) and runs under a SIGBUS guard for the shrink that lands between
// the check and the access: the handler jumps back and the access fails with EIO.
#include "fieldfs/segment.hpp"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "fieldfs/codec.hpp"

namespace fieldfs {

namespace {

thread_local sigjmp_buf* t_fault_jump = nullptr;

void on_sigbus(int sig, siginfo_t*, void*) {
  if (t_fault_jump != nullptr) siglongjmp(*t_fault_jump, 1);
  ::signal(sig, SIG_DFL);  // a fault outside a guarded access: die as we would have
  ::raise(sig);
}

void install_sigbus_guard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;  // NODEFER: the jump leaves SIGBUS unblocked
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
}

/// Runs `access` over the mapping; false if it faulted (the segment shrank under it).
template <typename F>
bool guarded(F&& access) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 0) != 0) {
    t_fault_jump = nullptr;
    return false;
  }
  t_fault_jump = &jump;
  access();
  t_fault_jump = nullptr;
  return true;
}

template <typename T>
T& word_at(std::byte* p) {
  return *reinterpret_cast<T*>(p);
}

bool is_aligned(const std::byte* p, std::size_t n) {
  return reinterpret_cast<std::uintptr_t>(p) % n == 0;
}

template <typename T>
void load_word(std::byte* src, char* dst) {
  T v = std::atomic_ref<T>(word_at<T>(src)).load(std::memory_order_acquire);
  std::memcpy(dst, &v, sizeof v);
}

template <typename T>
void store_word(std::byte* dst, const char* src) {
  T v;
  std::memcpy(&v, src, sizeof v);
  std::atomic_ref<T>(word_at<T>(dst)).store(v, std::memory_order_release);
}

template <typename T>
void merge_word(std::byte* dst, const char* src, std::uint64_t mask) {
  T bits;
  std::memcpy(&bits, src, sizeof bits);
  auto m = static_cast<T>(mask);
  std::atomic_ref<T> word(word_at<T>(dst));
  T old = word.load(std::memory_order_relaxed);
  while (!word.compare_exchange_weak(old, static_cast<T>((old & ~m) | (bits & m)),
                                     std::memory_order_acq_rel)) {
  }
}

void copy_in(std::byte* src, char* dst, std::size_t n) {
  bool atomic = is_aligned(src, n);
  if (atomic && n == 1) return load_word<std::uint8_t>(src, dst);
  if (atomic && n == 2) return load_word<std::uint16_t>(src, dst);
  if (atomic && n == 4) return load_word<std::uint32_t>(src, dst);
  if (atomic && n == 8) return load_word<std::uint64_t>(src, dst);
  std::memcpy(dst, src, n);
}

void copy_out(std::byte* dst, const char* src, std::size_t n) {
  bool atomic = is_aligned(dst, n);
  if (atomic && n == 1) return store_word<std::uint8_t>(dst, src);
  if (atomic && n == 2) return store_word<std::uint16_t>(dst, src);
  if (atomic && n == 4) return store_word<std::uint32_t>(dst, src);
  if (atomic && n == 8) return store_word<std::uint64_t>(dst, src);
  std::memcpy(dst, src, n);
}

void merge_out(std::byte* dst, const char* src, std::size_t n, std::uint64_t mask) {
  bool atomic = is_aligned(dst, n);
  if (atomic && n == 1) return merge_word<std::uint8_t>(dst, src, mask);
  if (atomic && n == 2) return merge_word<std::uint16_t>(dst, src, mask);
  if (atomic && n == 4) return merge_word<std::uint32_t>(dst, src, mask);
  if (atomic && n == 8) return merge_word<std::uint64_t>(dst, src, mask);
  for (std::size_t i = 0; i < n; ++i) {  // an unaligned storage unit: bytes, not atomic
    auto m = static_cast<unsigned char>(mask >> (8 * i));
    auto old = static_cast<unsigned char>(dst[i]);
    dst[i] = static_cast<std::byte>((old & ~m) | (static_cast<unsigned char>(src[i]) & m));
  }
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
      read_only_(other.read_only_) {}

Segment::~Segment() {
  if (base_ != nullptr) {
    if (file_backed_ && !read_only_) ::msync(base_, size_, MS_SYNC);
    ::munmap(base_, size_);
  }
}

Result<void> Segment::check_range(std::uint64_t offset, std::uint64_t length) const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return fail(std::errc::io_error);
  if (offset + length > static_cast<std::uint64_t>(st.st_size) || offset + length > size_) {
    return fail(std::errc::io_error);
  }
  return {};
}

Result<std::string> Segment::load(const Leaf& leaf) const {
  if (auto ok = check_range(leaf.offset, leaf.size); !ok) return Error{ok.error()};
  std::string out(leaf.size, '\0');
  std::byte* src = base_ + leaf.offset;
  if (!guarded([&] { copy_in(src, out.data(), out.size()); })) return fail(std::errc::io_error);
  return out;
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
      merge_out(dst, bytes.data(), bytes.size(), mask);
    }
  });
  if (!ok) return fail(std::errc::io_error);
  return {};
}

Result<void> Segment::sync() const {
  if (!file_backed_ || read_only_) return {};
  if (::msync(base_, size_, MS_SYNC) != 0) return fail(std::errc::io_error);
  return {};
}

}  // namespace fieldfs
