/* SPDX-License-Identifier: MIT */
/* Maps a segment fieldfs serves with -o seq=seq and follows its sequence counter (SPEC §8,
 * fieldfs/seqlock.h from fieldfs-dev): x and y change in one write section, so that no reader,
 * through the mount or the mapping, ever sees the new x with the old y.
 *   Build: cc -std=c11 -o seq_writer seq_writer.c   (fieldfs-dev installs the header)
 *   Mount: fieldfs -o schema=pos.h,seq=seq such_pos /mnt/pos   (pos.h: the struct below)
 *   Use:   seq_writer such_pos set 3 4 | seq_writer such_pos add 1 -1 | seq_writer such_pos get */
#include <fcntl.h>
#include <fieldfs/seqlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct pos {
  uint32_t seq; /* the sequence counter: only the protocol changes it */
  int32_t x;
  int32_t y;
};

/* set: one write section, whatever the state was. */
static int set(struct fieldfs_seq *seq, struct pos *p, int32_t x, int32_t y) {
  uint64_t s;
  if (fieldfs_seq_write_begin(seq, &s) != 0) return EAGAIN; /* a writer died inside a section */
  fieldfs_seq_store32(&p->x, (uint32_t)x);
  fieldfs_seq_store32(&p->y, (uint32_t)y);
  fieldfs_seq_write_end(seq, s);
  return 0;
}

/* add: compare-and-set. Read a snapshot, enter only if nobody wrote since, else read again. */
static int add(struct fieldfs_seq *seq, struct pos *p, int32_t dx, int32_t dy) {
  for (;;) {
    struct pos now;
    uint64_t seen, s;
    if (fieldfs_seq_snapshot(seq, &now, p, sizeof now, &seen) != 0) return EAGAIN;
    /* EAGAIN: someone wrote since; read again (a counter stuck odd fails the snapshot). */
    if (fieldfs_seq_write_begin_if(seq, seen, &s) != 0) continue;
    fieldfs_seq_store32(&p->x, (uint32_t)(now.x + dx));
    fieldfs_seq_store32(&p->y, (uint32_t)(now.y + dy));
    fieldfs_seq_write_end(seq, s);
    return 0;
  }
}

int main(int argc, char **argv) {
  int get = argc == 3 && strcmp(argv[2], "get") == 0;
  if (!get && (argc != 5 || (strcmp(argv[2], "set") != 0 && strcmp(argv[2], "add") != 0))) {
    fprintf(stderr, "usage: %s NAME get | set X Y | add DX DY\n", argv[0]);
    return 2;
  }
  int fd = shm_open(argv[1], O_RDWR, 0); /* the daemon created and sized it */
  if (fd < 0) {
    perror("shm_open");
    return 1;
  }
  struct pos *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  struct fieldfs_seq seq;
  fieldfs_seq_init(&seq, &p->seq, sizeof p->seq);
  int err;
  if (get) {
    struct pos now;
    err = fieldfs_seq_snapshot(&seq, &now, p, sizeof now, NULL);
    if (err == 0) printf("x=%d y=%d seq=%u\n", (int)now.x, (int)now.y, (unsigned)now.seq);
  } else if (strcmp(argv[2], "set") == 0) {
    err = set(&seq, p, (int32_t)atoi(argv[3]), (int32_t)atoi(argv[4]));
  } else {
    err = add(&seq, p, (int32_t)atoi(argv[3]), (int32_t)atoi(argv[4]));
  }
  munmap(p, sizeof *p);
  if (err != 0) fprintf(stderr, "%s: %s\n", argv[1], strerror(err));
  return err == 0 ? 0 : 1;
}
