/* SPDX-License-Identifier: MIT */
/* The sequence counter of SPEC §8 for C programs (and Cython, through `cdef extern from
 * "fieldfs/seqlock.h"`) that map a fieldfs segment: the protocol the daemon, fieldfs::Mapped<T>
 * and fieldfs::SeqLock (seqlock.hpp) follow, so that all of them exclude and check each other.
 * Header-only C11: <stdatomic.h> on the counter and the fields, the futex system call (shared,
 * never FUTEX_PRIVATE: the other side is another process) on the 4-byte word at the counter's
 * offset, its low half on a little-endian 8-byte counter.
 *
 * Writer: CAS the counter from even s to s + 1 (acquire), store the fields with atomic stores,
 * store s + 2 (release), FUTEX_WAKE. Reader: load (acquire), wait while odd, copy with atomic
 * loads, acquire fence, load again, retry if it moved. A writer that died inside a section
 * leaves the counter odd: every wait here is bounded (bound_ms), then fails with EAGAIN.
 *
 * examples/seq_writer.c shows each call: set (one section), add (compare-and-set), get (a
 * snapshot). Needs no feature macro (it compiles under -std=c11 -Wpedantic) and links nothing. */
#ifndef FIELDFS_SEQLOCK_H
#define FIELDFS_SEQLOCK_H

#if defined(__cplusplus)
#error "fieldfs/seqlock.h is C11; C++ programs use fieldfs/seqlock.hpp (fieldfs::SeqLock)"
#endif

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

/* glibc declares syscall(2) only with _DEFAULT_SOURCE or _GNU_SOURCE, which strict C11 lacks and
 * which a header cannot define once <features.h> was read: the declaration is glibc's and musl's,
 * repeated here (harmlessly where it was made already).
 * The clock goes through it too: clock_gettime and CLOCK_MONOTONIC are POSIX, not C11. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wredundant-decls"
extern long syscall(long, ...);
#pragma GCC diagnostic pop

/// The wait bound fieldfs_seq_init sets: -o seq_wait_ms's default.
#define FIELDFS_SEQ_DEFAULT_BOUND_MS 200u

/// A counter of 4 or 8 bytes in a mapping; a view of it, copied freely.
struct fieldfs_seq {
  void *counter;     /* the counter, aligned to its width */
  unsigned width;    /* 4 or 8 */
  unsigned bound_ms; /* the longest wait for an odd counter, or for a copy that held, to EAGAIN */
};

/* Internals, prefixed fieldfs_seq__: the spin count before the first futex wait, and the longest
 * single wait (a writer that stores the closing value without FUTEX_WAKE, Python's, is seen
 * within it). */
enum { fieldfs_seq__spins = 64, fieldfs_seq__slice_ns = 1000000 };

static inline int64_t fieldfs_seq__now_ns(void) {
  struct timespec ts = {0, 0};
  syscall(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC, Linux's ABI */, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void fieldfs_seq__relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/// Sets *seq to the counter of `width` bytes at `counter`, with the default bound. EINVAL: the
/// width is not 4 or 8, or the counter is not aligned to it.
static inline int fieldfs_seq_init(struct fieldfs_seq *seq, void *counter, size_t width) {
  if ((width != 4 && width != 8) || (uintptr_t)counter % width != 0) return EINVAL;
  seq->counter = counter;
  seq->width = (unsigned)width;
  seq->bound_ms = FIELDFS_SEQ_DEFAULT_BOUND_MS;
  return 0;
}

/// The counter now, with `order` (memory_order_acquire for the protocol's loads).
static inline uint64_t fieldfs_seq__load(const struct fieldfs_seq *seq, memory_order order) {
  if (seq->width == 8) return atomic_load_explicit((_Atomic uint64_t *)seq->counter, order);
  return atomic_load_explicit((_Atomic uint32_t *)seq->counter, order);
}

/// The counter now (acquire).
static inline uint64_t fieldfs_seq_load(const struct fieldfs_seq *seq) {
  return fieldfs_seq__load(seq, memory_order_acquire);
}

/// Wakes every waiter on the counter's futex word, in any process (FUTEX_WAKE, shared).
static inline void fieldfs_seq_wake(const struct fieldfs_seq *seq) {
  syscall(SYS_futex, seq->counter, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/// Sleeps until the futex word is no longer `seen`, a wake, or `timeout_ns` passes (at once if it
/// is 0 or less): FUTEX_WAIT, shared. The change notification of SPEC §6 waits so.
static inline void fieldfs_seq_wait(const struct fieldfs_seq *seq, uint32_t seen,
                                    int64_t timeout_ns) {
  struct timespec ts = {0, 0};
  if (timeout_ns > 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
  }
  syscall(SYS_futex, seq->counter, FUTEX_WAIT, seen, &ts, NULL, 0);
}

/// Whether *deadline (0: not set yet, then now + bound) has passed.
static inline int fieldfs_seq__late(const struct fieldfs_seq *seq, int64_t *deadline) {
  int64_t now = fieldfs_seq__now_ns();
  if (*deadline == 0) *deadline = now + (int64_t)seq->bound_ms * 1000000;
  return now >= *deadline;
}

/// Waits while the counter is `odd`: spins, then futex waits of at most 1 ms until *deadline.
/// Returns the counter's new value in *now. EAGAIN: it stayed `odd` until the deadline.
static inline int fieldfs_seq__wait_while(const struct fieldfs_seq *seq, uint64_t odd,
                                          int64_t *deadline, uint64_t *now) {
  for (int i = 0; i < fieldfs_seq__spins; ++i) {
    if ((*now = fieldfs_seq_load(seq)) != odd) return 0;
    fieldfs_seq__relax();
  }
  while (!fieldfs_seq__late(seq, deadline)) {
    int64_t left = *deadline - fieldfs_seq__now_ns();
    fieldfs_seq_wait(seq, (uint32_t)odd,
                     left < fieldfs_seq__slice_ns ? left : fieldfs_seq__slice_ns);
    if ((*now = fieldfs_seq_load(seq)) != odd) return 0;
  }
  return EAGAIN;
}

/// Waits (bounded by *deadline) for an even counter and stores it in *s. EAGAIN.
static inline int fieldfs_seq__even(const struct fieldfs_seq *seq, int64_t *deadline, uint64_t *s) {
  *s = fieldfs_seq_load(seq);
  while ((*s & 1) != 0) {
    if (fieldfs_seq__wait_while(seq, *s, deadline, s) != 0) return EAGAIN;
  }
  return 0;
}

/// Opens a read section: waits (bounded) while the counter is odd, then stores it in *s. EAGAIN:
/// it stayed odd for bound_ms (a writer died inside a section; make it even to recover).
static inline int fieldfs_seq_read_begin(const struct fieldfs_seq *seq, uint64_t *s) {
  int64_t deadline = 0;
  return fieldfs_seq__even(seq, &deadline, s);
}

/// Closes a read section opened at `s`: nonzero if the counter moved (the copy may mix two
/// states: read again), 0 if what was loaded since read_begin is one consistent state.
static inline int fieldfs_seq_read_retry(const struct fieldfs_seq *seq, uint64_t s) {
  atomic_thread_fence(memory_order_acquire);
  return fieldfs_seq__load(seq, memory_order_relaxed) != s;
}

/// The aligned 8-byte word at address w, reached from p (at address at) by pointer arithmetic.
static inline _Atomic uint64_t *fieldfs_seq__word(const void *p, uintptr_t at, uintptr_t w) {
  const unsigned char *b = (const unsigned char *)p;
  return (_Atomic uint64_t *)(uintptr_t)(w >= at ? b + (w - at) : b - (at - w));
}

/// Copies n bytes from src, each aligned 8-byte word they touch with one atomic load (relaxed),
/// as the daemon does: no naturally aligned scalar is torn. Use inside a read section.
static inline void fieldfs_seq_copy(void *dst, const void *src, size_t n) {
  uintptr_t first = (uintptr_t)src;
  uintptr_t end = first + n;
  for (uintptr_t w = first & ~(uintptr_t)7; w < end; w += 8) {
    uint64_t v = atomic_load_explicit(fieldfs_seq__word(src, first, w), memory_order_relaxed);
    uintptr_t from = w > first ? w : first;
    uintptr_t to = w + 8 < end ? w + 8 : end;
    memcpy((unsigned char *)dst + (from - first), (unsigned char *)&v + (from - w), to - from);
  }
}

/// Copies `size` bytes at `src` (the struct, or part of it) to `dst` as one consistent state,
/// retried while a section is open or the counter moved; the counter it held at goes to *seen
/// (if not NULL). EAGAIN: no consistent copy within bound_ms.
static inline int fieldfs_seq_snapshot(const struct fieldfs_seq *seq, void *dst, const void *src,
                                       size_t size, uint64_t *seen) {
  int64_t deadline = 0;
  for (;;) {
    uint64_t s;
    if (fieldfs_seq__even(seq, &deadline, &s) != 0) return EAGAIN;
    fieldfs_seq_copy(dst, src, size);
    if (!fieldfs_seq_read_retry(seq, s)) {
      if (seen != NULL) *seen = s;
      return 0;
    }
    if (fieldfs_seq__late(seq, &deadline)) return EAGAIN;
  }
}

/// CAS s -> s + 1 (acquire), then a release fence: the fields' stores that follow are never seen
/// before the odd counter. Returns whether it entered; on failure *s is the counter now.
static inline int fieldfs_seq__enter(const struct fieldfs_seq *seq, uint64_t *s) {
  int entered;
  if (seq->width == 8) {
    entered = atomic_compare_exchange_weak_explicit((_Atomic uint64_t *)seq->counter, s, *s + 1,
                                                    memory_order_acquire, memory_order_acquire);
  } else {
    uint32_t s32 = (uint32_t)*s;
    entered = atomic_compare_exchange_weak_explicit((_Atomic uint32_t *)seq->counter, &s32, s32 + 1,
                                                    memory_order_acquire, memory_order_acquire);
    *s = s32;
  }
  if (entered) atomic_thread_fence(memory_order_release);
  return entered;
}

/// Opens a write section from an even counter s (s -> s + 1), waiting (bounded) while it is odd;
/// with `expect` nonzero, only from `expected`. Stores s in *entered. EAGAIN: the counter is not
/// `expected` (at once, or when the open section closes), or stayed odd for bound_ms.
static inline int fieldfs_seq__write_begin(const struct fieldfs_seq *seq, int expect,
                                           uint64_t expected, uint64_t *entered) {
  int64_t deadline = 0;
  uint64_t s = fieldfs_seq_load(seq);
  for (;;) {
    if ((s & 1) != 0) {
      if (fieldfs_seq__wait_while(seq, s, &deadline, &s) != 0) return EAGAIN;
      continue;
    }
    if (expect && s != expected) return EAGAIN;
    if (fieldfs_seq__enter(seq, &s)) {
      *entered = s;
      return 0;
    }
  }
}

/// Opens a write section: the counter goes from even s to s + 1, stored in *entered; waits
/// (bounded) while another section is open. EAGAIN: the counter stayed odd for bound_ms.
static inline int fieldfs_seq_write_begin(const struct fieldfs_seq *seq, uint64_t *entered) {
  return fieldfs_seq__write_begin(seq, 0, 0, entered);
}

/// Compare-and-set: opens a write section only from the counter value `expected` (one a snapshot
/// returned), so that nothing written since is overwritten. EAGAIN: the counter moved (read
/// again and retry), or stayed odd for bound_ms.
static inline int fieldfs_seq_write_begin_if(const struct fieldfs_seq *seq, uint64_t expected,
                                             uint64_t *entered) {
  return fieldfs_seq__write_begin(seq, 1, expected, entered);
}

/// Closes the section write_begin opened at `entered`: stores entered + 2 (release) and wakes
/// every waiter, in any process.
static inline void fieldfs_seq_write_end(const struct fieldfs_seq *seq, uint64_t entered) {
  if (seq->width == 8) {
    atomic_store_explicit((_Atomic uint64_t *)seq->counter, entered + 2, memory_order_release);
  } else {
    atomic_store_explicit((_Atomic uint32_t *)seq->counter, (uint32_t)(entered + 2),
                          memory_order_release);
  }
  fieldfs_seq_wake(seq);
}

/// Stores one naturally aligned field with one atomic store (relaxed: write_end publishes it).
static inline void fieldfs_seq_store8(void *field, uint8_t v) {
  atomic_store_explicit((_Atomic uint8_t *)field, v, memory_order_relaxed);
}
/// As fieldfs_seq_store8, for a 2-byte field.
static inline void fieldfs_seq_store16(void *field, uint16_t v) {
  atomic_store_explicit((_Atomic uint16_t *)field, v, memory_order_relaxed);
}
/// As fieldfs_seq_store8, for a 4-byte field (int32_t, uint32_t, float through memcpy).
static inline void fieldfs_seq_store32(void *field, uint32_t v) {
  atomic_store_explicit((_Atomic uint32_t *)field, v, memory_order_relaxed);
}
/// As fieldfs_seq_store8, for an 8-byte field (int64_t, uint64_t, double through memcpy).
static inline void fieldfs_seq_store64(void *field, uint64_t v) {
  atomic_store_explicit((_Atomic uint64_t *)field, v, memory_order_relaxed);
}
/// Loads one naturally aligned 4-byte field with one atomic load (inside a read section).
static inline uint32_t fieldfs_seq_load32(const void *field) {
  return atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)field, memory_order_relaxed);
}
/// As fieldfs_seq_load32, for an 8-byte field.
static inline uint64_t fieldfs_seq_load64(const void *field) {
  return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)field, memory_order_relaxed);
}

/// Stores n bytes (a char[N], a sub-struct) as the daemon does: each aligned 8-byte word they
/// fill with one atomic store, a word they share with other bytes with a CAS that keeps those.
static inline void fieldfs_seq_store_bytes(void *dst, const void *src, size_t n) {
  uintptr_t first = (uintptr_t)dst;
  uintptr_t end = first + n;
  for (uintptr_t w = first & ~(uintptr_t)7; w < end; w += 8) {
    uintptr_t from = w > first ? w : first;
    uintptr_t to = w + 8 < end ? w + 8 : end;
    _Atomic uint64_t *word = fieldfs_seq__word(dst, first, w);
    uint64_t bits = 0;
    uint64_t mask = 0;
    memcpy((unsigned char *)&bits + (from - w), (const unsigned char *)src + (from - first),
           to - from);
    memset((unsigned char *)&mask + (from - w), 0xff, to - from);
    if (mask == UINT64_MAX) {
      atomic_store_explicit(word, bits, memory_order_relaxed);
      continue;
    }
    uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(word, &old, (old & ~mask) | bits,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
  }
}

#endif
