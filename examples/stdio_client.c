/* SPDX-License-Identifier: MIT */
/* A C program that uses fieldfs through stdio only: reads bar, writes bar + 1 to baz.
 * Build: cc -o stdio_client examples/stdio_client.c   Use: stdio_client /mnt/foo */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/bar", argv[1]);
  FILE* in = fopen(path, "r");
  long bar = 0;
  if (in == NULL || fscanf(in, "%ld", &bar) != 1) {
    fprintf(stderr, "%s: cannot read a number\n", path);
    return 1;
  }
  fclose(in);
  snprintf(path, sizeof path, "%s/baz", argv[1]);
  FILE* out = fopen(path, "w");
  if (out == NULL) {
    perror(path);
    return 1;
  }
  fprintf(out, "%ld\n", bar + 1);
  /* stdio writes at fclose (or fflush): that is where a bad value's EINVAL or ERANGE shows */
  if (fclose(out) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  printf("baz = %ld\n", bar + 1);
  return 0;
}
