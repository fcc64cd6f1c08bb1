/* SPDX-License-Identifier: MIT */
/* One process of seq_c_test.cpp: follows (or, as a control, ignores) the protocol of
 * fieldfs/seqlock.h on a state file mapped MAP_SHARED, and prints what it saw on one line.
 *   seq_worker ROLE PATH WIDTH [ARG]   WIDTH: the counter's bytes, 4 or 8
 *   write N      N sections, each x += 1, y = -x, name = x in decimal
 *   cas N        N compare-and-set increments (snapshot, write_begin_if); prints the conflicts
 *   unlocked N   x = 1..N with the same stores and no section (the control: readers see mixes)
 *   read TOTAL   reads until x == TOTAL, half with snapshot, half with read_begin/read_retry;
 *                prints "snapshots mixed during retries eagain"
 *   stuck MS     on an odd counter: read_begin, snapshot, write_begin, write_begin_if with a
 *                bound of MS; prints each one's result and milliseconds
 *   wait         read_begin with a 10 s bound; prints the counter it returned
 *   end S        write_end(S): closes a section another process opened at S
 * Compiled as C11 with -Wpedantic: the header needs no feature macro; this file needs POSIX. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fieldfs/seqlock.h"

/* The layout of seq_c_test.cpp's State: the counter's 4 or 8 bytes at offset 0. */
struct state {
  union {
    uint64_t seq64;
    uint32_t seq32;
  };
  int64_t x;
  int64_t y;
  char name[24];
};

static struct state *st;
static struct fieldfs_seq seq;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A microsecond or so between two accesses of one section: it widens the window in which a
 * mix would be seen, were it not for the protocol. */
static volatile int dawdled;
static void dawdle(void) {
  for (int i = 0; i < 400; ++i) dawdled = i;
}

/* The stores of one update to x. */
static void put(int64_t x) {
  char name[sizeof st->name] = {0};
  fieldfs_seq_store64(&st->x, (uint64_t)x);
  snprintf(name, sizeof name, "%" PRId64, x);
  dawdle();
  fieldfs_seq_store64(&st->y, (uint64_t)-x);
  fieldfs_seq_store_bytes(st->name, name, sizeof name);
}

/* Every 64 sections a writer yields its CPU, so that readers run while it writes even on a
 * machine with fewer CPUs than processes. */
static void share_cpu(long i) {
  if (i % 64 == 63) sched_yield();
}

static int do_write(long n) {
  for (long i = 0; i < n; ++i) {
    uint64_t s;
    share_cpu(i);
    if (fieldfs_seq_write_begin(&seq, &s) != 0) return 4;
    put((int64_t)fieldfs_seq_load64(&st->x) + 1);
    fieldfs_seq_write_end(&seq, s);
  }
  printf("ok\n");
  return 0;
}

static int do_cas(long n) {
  long conflicts = 0;
  for (long done = 0; done < n;) {
    struct state copy;
    uint64_t seen;
    uint64_t s;
    if (fieldfs_seq_snapshot(&seq, &copy, st, sizeof copy, &seen) != 0) return 4;
    dawdle();        /* another writer may enter meanwhile: then this one must not */
    share_cpu(done); /* and now and then surely does */
    if (fieldfs_seq_write_begin_if(&seq, seen, &s) != 0) {
      ++conflicts;
      continue;
    }
    put(copy.x + 1);
    fieldfs_seq_write_end(&seq, s);
    ++done;
  }
  printf("%ld\n", conflicts);
  return 0;
}

static int do_unlocked(long n) {
  for (long i = 1; i <= n; ++i) put(i);
  printf("ok\n");
  return 0;
}

/* Whether a copy is one state some section left: y == -x, name == x, an even counter. */
static int consistent(const struct state *c) {
  char name[sizeof c->name] = {0};
  snprintf(name, sizeof name, "%" PRId64, c->x);
  uint64_t s = seq.width == 8 ? c->seq64 : c->seq32;
  return c->y == -c->x && memcmp(name, c->name, sizeof name) == 0 && (s & 1) == 0;
}

/* One consistent copy by hand: read_begin, atomic loads, read_retry. */
static int read_by_hand(struct state *c, long *retries) {
  for (;;) {
    uint64_t s;
    if (fieldfs_seq_read_begin(&seq, &s) != 0) return EAGAIN;
    c->seq64 = fieldfs_seq_load64(&st->seq64);
    c->x = (int64_t)fieldfs_seq_load64(&st->x);
    dawdle();
    c->y = (int64_t)fieldfs_seq_load64(&st->y);
    fieldfs_seq_copy(c->name, st->name, sizeof c->name);
    if (!fieldfs_seq_read_retry(&seq, s)) return 0;
    ++*retries;
  }
}

static int do_read(long total) {
  long snapshots = 0, mixed = 0, during = 0, retries = 0, eagain = 0;
  int64_t last = 0;
  int64_t give_up = now_ms() + 60000;
  for (long i = 0; last != total; ++i) {
    struct state c;
    int rc =
        i % 2 ? read_by_hand(&c, &retries) : fieldfs_seq_snapshot(&seq, &c, st, sizeof c, NULL);
    if (rc != 0) {
      ++eagain;
      continue;
    }
    ++snapshots;
    if (!consistent(&c) || c.x < last) ++mixed;
    if (c.x > 0 && c.x < total) ++during;
    last = c.x;
    if (now_ms() > give_up) return 3;
  }
  printf("%ld %ld %ld %ld %ld\n", snapshots, mixed, during, retries, eagain);
  return 0;
}

/* Prints "RESULT MS" for one call that must give up on the odd counter. */
static void timed(int (*call)(void)) {
  int64_t start = now_ms();
  int rc = call();
  printf("%d %" PRId64 " ", rc, now_ms() - start);
}
static int stuck_read(void) {
  uint64_t s;
  return fieldfs_seq_read_begin(&seq, &s);
}
static int stuck_snapshot(void) {
  struct state c;
  return fieldfs_seq_snapshot(&seq, &c, st, sizeof c, NULL);
}
static int stuck_write(void) {
  uint64_t s;
  return fieldfs_seq_write_begin(&seq, &s);
}
static int stuck_write_if(void) {
  uint64_t s;
  return fieldfs_seq_write_begin_if(&seq, fieldfs_seq_load(&seq), &s);
}

static int do_stuck(long bound_ms) {
  seq.bound_ms = (unsigned)bound_ms;
  timed(stuck_read);
  timed(stuck_snapshot);
  timed(stuck_write);
  timed(stuck_write_if);
  printf("\n");
  return 0;
}

static int do_wait(void) {
  uint64_t s;
  seq.bound_ms = 10000;
  if (fieldfs_seq_read_begin(&seq, &s) != 0) return 4;
  printf("%" PRIu64 "\n", s);
  return 0;
}

static int run(const char *role, long arg) {
  if (strcmp(role, "write") == 0) return do_write(arg);
  if (strcmp(role, "cas") == 0) return do_cas(arg);
  if (strcmp(role, "unlocked") == 0) return do_unlocked(arg);
  if (strcmp(role, "read") == 0) return do_read(arg);
  if (strcmp(role, "stuck") == 0) return do_stuck(arg);
  if (strcmp(role, "wait") == 0) return do_wait();
  if (strcmp(role, "end") == 0) {
    fieldfs_seq_write_end(&seq, (uint64_t)arg);
    return 0;
  }
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s ROLE PATH WIDTH [ARG]\n", argv[0]);
    return 2;
  }
  int fd = open(argv[2], O_RDWR);
  if (fd < 0) return 2;
  st = mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (st == MAP_FAILED) return 2;
  if (fieldfs_seq_init(&seq, &st->seq64, (size_t)atoi(argv[3])) != 0) return 2;
  seq.bound_ms = 5000; /* a loaded CI machine may preempt a writer inside its section */
  int rc = run(argv[1], argc > 4 ? atol(argv[4]) : 0);
  fflush(stdout);
  munmap(st, sizeof *st);
  return rc;
}
