// SPDX-License-Identifier: MIT
// What the sequence-counter clients share: the mapping of a segment that holds a struct pos
// (bench/pos.h), protocol writers of SPEC §8 (fieldfs::SeqLock on the mapping, and
// fieldfs::Mapped<pos>::update), and the oracle that says whether a copy of x, y and name is one
// state a writer stored.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "fieldfs/mapped.hpp"
#include "fieldfs/seqlock.hpp"
#include "pos.h"

namespace bench {

/// Ends the process with "PROGRAM: WHAT: errno's message".
[[noreturn]] inline void die(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s: %s\n", program, what.c_str(),
               std::error_code(errno, std::generic_category()).message().c_str());
  std::exit(1);
}

/// The struct pos at the start of the segment file `path`, mapped shared, read and write.
inline pos& map_pos(const char* program, const char* path) {
  int fd = ::open(path, O_RDWR);
  if (fd < 0) die(program, std::string("open ") + path);
  void* p = mmap(nullptr, sizeof(pos), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die(program, std::string("mmap ") + path);
  ::close(fd);
  return *static_cast<pos*>(p);
}

/// The struct's counter as a SeqLock (4 bytes at offset 0) whose waits give up after `bound`.
/// The daemon's readers wait 200 ms (seq_wait_ms); the bench's writers wait longer, since on a
/// loaded machine another writer can be preempted inside its section for that long.
inline fieldfs::SeqLock lock_of(pos& p, std::chrono::nanoseconds bound = std::chrono::seconds(10)) {
  return fieldfs::SeqLock(reinterpret_cast<std::byte*>(&p.seq), sizeof p.seq, bound);
}

/// The name that states i: i in 10 digits, twice ("0000000042/0000000042"), so that a name
/// read alone shows whether it mixes two stores.
inline void name_of(int i, char (&out)[sizeof(pos::name)]) {
  std::memset(out, 0, sizeof out);
  std::snprintf(out, sizeof out, "%010d/%010d", i, i);
}

/// Whether a name read alone is one that a writer stored (its two halves agree).
inline bool name_whole(const char* name) {
  return std::strlen(name) == 21 && name[10] == '/' && std::strncmp(name, name + 11, 10) == 0;
}

/// Whether (x, y, name) is one state a writer stored.
inline bool consistent(int x, int y, const char* name) {
  char want[sizeof(pos::name)];
  name_of(x, want);
  return y == -x && std::strncmp(name, want, sizeof want) == 0;
}

/// One write section (SPEC §8): x = i, y = -i, name = name_of(i), every byte an atomic store.
/// False, with errno EAGAIN, if the section could not be entered within the lock's bound.
inline bool store(fieldfs::SeqLock& lock, pos& p, int i) {
  char name[sizeof(pos::name)];
  name_of(i, name);
  auto s = lock.enter();
  if (!s) {
    errno = static_cast<int>(s.error());
    return false;
  }
  std::atomic_ref<std::int32_t>(p.x).store(i, std::memory_order_relaxed);
  std::atomic_ref<std::int32_t>(p.y).store(-i, std::memory_order_relaxed);
  for (std::size_t k = 0; k < sizeof name; ++k)
    std::atomic_ref<char>(p.name[k]).store(name[k], std::memory_order_relaxed);
  lock.leave(*s);
  return true;
}

/// The segment file `path` (/dev/shm/NAME) as a Mapped<pos> with seq as its counter, whose waits
/// give up after `bound`.
inline fieldfs::Mapped<pos> mapped_pos(const char* path, std::chrono::nanoseconds bound) {
  std::string_view name(path);
  if (name.starts_with("/dev/shm/")) name.remove_prefix(9);
  return fieldfs::Mapped<pos>(name, &pos::seq, {}, bound);
}

/// One write section through Mapped<pos>::update: x = i, y = -i, name = name_of(i). False, with
/// errno EAGAIN, if it could not be entered within the bound.
inline bool update(fieldfs::Mapped<pos>& m, int i) {
  auto done = m.try_update([i](pos& p) {
    p.x = i;
    p.y = -i;
    name_of(i, p.name);
  });
  if (!done) errno = static_cast<int>(done.error());
  return static_cast<bool>(done);
}

/// Copies x, y and name out of the mapping with atomic loads (no protocol).
inline void copy(pos& p, int& x, int& y, char (&name)[sizeof(pos::name)]) {
  x = std::atomic_ref<std::int32_t>(p.x).load(std::memory_order_relaxed);
  y = std::atomic_ref<std::int32_t>(p.y).load(std::memory_order_relaxed);
  for (std::size_t k = 0; k < sizeof name; ++k)
    name[k] = std::atomic_ref<char>(p.name[k]).load(std::memory_order_relaxed);
}

}  // namespace bench
