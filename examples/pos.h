/* SPDX-License-Identifier: MIT */
/* A position shared as one state: mounted with -o seq=seq, x, y and label change together. */
#include <stdint.h>

struct pos {
  uint32_t seq; /* the sequence counter: even at rest, odd while a writer is inside a section */
  int32_t x;
  int32_t y;
  char label[24];
};
