// SPDX-License-Identifier: MIT
//
// Every kind of member fieldfs can serve, in one struct. Try it:
//
//   fieldfs --layout -o schema=examples/every_kind.h every_kind
//   fieldfs -o schema=examples/every_kind.h,struct=machine machine /mnt/machine
//
// Pointers, flexible array members, long double, _Complex and vector types are refused: their
// bytes either mean nothing in another process or have no text form here.
#ifndef FIELDFS_EXAMPLE_EVERY_KIND_H
#define FIELDFS_EXAMPLE_EVERY_KIND_H

#include <stdbool.h>
#include <stdint.h>

#define NAME_LEN 16
#define AXES 3

typedef uint32_t serial_t;

/// Shown as its enumerator's name; accepts a name or a number.
enum state { STATE_IDLE, STATE_RUNNING, STATE_FAULT = -1 };

enum __attribute__((packed)) level { LEVEL_LOW = 1, LEVEL_HIGH = 200 };

struct vec3 {
  double v[AXES];
};

struct axis {
  char label[4];
  float position;
  int16_t limits[2];
};

typedef struct machine {
  /* plain integers, each width and signedness */
  char c;
  signed char sc;
  unsigned char uc;
  short s;
  unsigned short us;
  int i;
  unsigned int ui;
  long l;
  unsigned long ul;
  long long ll;
  unsigned long long ull;
  int8_t i8;
  uint8_t u8;
  int16_t i16;
  uint16_t u16;
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  serial_t serial;

  bool enabled;
  _Bool legacy_flag;
  float ratio;
  double temperature;

  char name[NAME_LEN];    /* one text file */
  const char firmware[8]; /* read-only text */
  const uint32_t build;   /* read-only number */

  enum state state;
  enum level level;

  /* bit-fields share storage units; writes leave neighbours intact */
  unsigned int ready : 1;
  unsigned int mode : 3;
  int offset : 12;
  bool alarm : 1;
  enum state last_state : 4;

  struct vec3 speed;      /* a directory speed/v/0 .. speed/v/2 */
  struct axis axes[AXES]; /* directories of directories */
  int32_t grid[2][3];     /* grid/0/0 .. grid/1/2 */
  const struct axis home; /* every file inside is read-only */

  union {
    uint32_t word;
    uint8_t bytes[4];
  } raw;

  struct { /* anonymous: x and y appear at the root */
    int32_t x;
    int32_t y;
  };

  _Alignas(16) uint64_t stamp;
  struct __attribute__((packed)) {
    uint8_t kind;
    uint32_t value;
  } packed_pair;
} machine_t;

#endif
