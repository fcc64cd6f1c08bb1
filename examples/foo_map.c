/* SPDX-License-Identifier: MIT */
/* Maps the segment fieldfs serves and reads or sets a field directly: the same bytes the files
 * show. Build: cc -o foo_map examples/foo_map.c   Use: foo_map such_foo get bar | set baz 7 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct foo {
  int bar;
  int baz;
};

int main(int argc, char** argv) {
  if (argc < 4 || (strcmp(argv[2], "set") == 0 && argc < 5)) {
    fprintf(stderr, "usage: %s NAME get|set bar|baz [VALUE]\n", argv[0]);
    return 2;
  }
  /* No O_CREAT and no ftruncate: the daemon sized the segment; shrinking it would cut off
   * fields another program may use. */
  int fd = shm_open(argv[1], O_RDWR, 0);
  if (fd < 0) {
    perror("shm_open");
    return 1;
  }
  struct foo* foo = mmap(NULL, sizeof *foo, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (foo == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  int* field = strcmp(argv[3], "bar") == 0 ? &foo->bar : &foo->baz;
  /* Atomic accesses: one load or store, as fieldfs does, so neither side sees half a value. */
  if (strcmp(argv[2], "get") == 0) {
    printf("%d\n", atomic_load_explicit((_Atomic int*)field, memory_order_acquire));
  } else {
    atomic_store_explicit((_Atomic int*)field, atoi(argv[4]), memory_order_release);
  }
  munmap(foo, sizeof *foo);
  return 0;
}
