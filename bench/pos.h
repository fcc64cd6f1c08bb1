/* SPDX-License-Identifier: MIT */
/* The struct of the sequence-counter figures (bench/seq_phases.py): the daemon reads it with
   -o schema=bench/pos.h, bench/snapshots.cpp and bench/notify.cpp map it. seq is the counter
   (-o seq=seq); a consistent state has y == -x and name == pos_name(x). */
#include <stdint.h>

struct pos {
  uint32_t seq;
  int32_t x;
  int32_t y;
  char name[24];
};
