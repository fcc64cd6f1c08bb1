// SPDX-License-Identifier: MIT
// How fieldfs touches shared bytes, one aligned 8-byte word at a time: the daemon's Segment and
// Mapped<T>'s snapshot and update share it, so a process that maps the segment copies and stores
// exactly as the daemon does. Every naturally aligned scalar (and any scalar that does not cross
// an 8-byte boundary) lies in one such word, so none is torn. The bytes of a word outside a range
// share its page, so touching them can fault only where the range itself would.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fieldfs::detail {

inline constexpr std::uintptr_t kWord = 8;

/// The aligned 8-byte word at address w, reached from p (at address first): pointer arithmetic,
/// not an integer-to-pointer cast.
inline std::atomic_ref<std::uint64_t> word_at(const std::byte* p, std::uintptr_t first,
                                              std::uintptr_t w) {
  const std::byte* at = w >= first ? p + (w - first) : p - (first - w);
  return std::atomic_ref<std::uint64_t>(
      *reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(at)));
}

/// Loads each aligned 8-byte word that n bytes at src touch with one atomic load, and hands
/// `part(at, bytes, length)` the range's bytes in it (at: their offset in the range) until part
/// returns false.
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

/// Copies n bytes from the mapping at src to dst, each aligned word with one atomic load.
inline void copy_in(const std::byte* src, char* dst, std::size_t n) {
  for_each_word(src, n, [dst](std::size_t at, const char* bytes, std::size_t length) {
    std::memcpy(dst + at, bytes, length);
    return true;
  });
}

/// Stores the bits of `bits` that `mask` selects into `word`: one atomic (release) store when it
/// selects them all, else a compare-and-swap that keeps the others.
inline void store_masked(std::atomic_ref<std::uint64_t> word, std::uint64_t bits,
                         std::uint64_t mask) {
  if (mask == ~std::uint64_t{0}) {
    word.store(bits, std::memory_order_release);
    return;
  }
  std::uint64_t old = word.load(std::memory_order_relaxed);
  while (
      !word.compare_exchange_weak(old, (old & ~mask) | (bits & mask), std::memory_order_acq_rel)) {
  }
}

/// Stores the bytes of src (n of them) into the mapping at dst, each masked by `keep(i)` (the
/// bits of byte i to store), one aligned 8-byte word at a time with store_masked. A word without
/// a bit to store is not touched.
template <typename Keep>
void store_words(std::byte* dst, const char* src, std::size_t n, Keep&& keep) {
  auto first = reinterpret_cast<std::uintptr_t>(dst);
  std::uintptr_t end = first + n;
  for (std::uintptr_t w = first & ~(kWord - 1); w < end; w += kWord) {
    unsigned char bits[kWord] = {};
    unsigned char mask[kWord] = {};
    for (std::uintptr_t a = std::max(w, first); a < std::min(w + kWord, end); ++a) {
      std::size_t i = a - first;
      bits[a - w] = static_cast<unsigned char>(src[i]);
      mask[a - w] = static_cast<unsigned char>(keep(i));
    }
    std::uint64_t b = 0;
    std::uint64_t m = 0;
    std::memcpy(&b, bits, sizeof b);
    std::memcpy(&m, mask, sizeof m);
    if (m != 0) store_masked(word_at(dst, first, w), b, m);
  }
}

}  // namespace fieldfs::detail
