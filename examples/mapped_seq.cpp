// SPDX-License-Identifier: MIT
// A struct with a sequence counter (fieldfs -o seq=seq, SPEC §8) shared through fieldfs::Mapped:
// `get` prints one consistent snapshot, `set` stores x, y and the label in one write section (a
// reader never sees half of it), `add` moves x by DX with a compare-and-set that retries when
// another writer got in between, so no update is lost.
//   Build: c++ -std=c++20 mapped_seq.cpp $(pkg-config --cflags --libs fieldfs) -o mapped_seq
//   Use:   mapped_seq such_pos get | mapped_seq such_pos set 1.5 -2 home | mapped_seq such_pos add
//   1
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "fieldfs/mapped.hpp"

struct pos {
  std::uint32_t seq;  // the counter: only the protocol changes it
  double x;
  double y;
  char label[16];
};

int main(int argc, char** argv) {
  bool get = argc == 3 && std::strcmp(argv[2], "get") == 0;
  bool set = argc == 6 && std::strcmp(argv[2], "set") == 0;
  bool add = argc == 4 && std::strcmp(argv[2], "add") == 0;
  if (!get && !set && !add) {
    std::fprintf(stderr, "usage: %s SOURCE get | set X Y LABEL | add DX\n", argv[0]);
    return 2;
  }
  try {
    fieldfs::Mapped<pos> m{argv[1], &pos::seq};
    if (get) {
      pos p = m.snapshot();  // EAGAIN if a writer died inside a section
      std::printf("seq=%u x=%g y=%g label=%.*s\n", p.seq, p.x, p.y,
                  static_cast<int>(strnlen(p.label, sizeof p.label)), p.label);
    } else if (set) {
      m.update([&](pos& p) {
        p.x = std::atof(argv[3]);
        p.y = std::atof(argv[4]);
        std::snprintf(p.label, sizeof p.label, "%s", argv[5]);
      });
    } else {
      double dx = std::atof(argv[3]);
      for (;;) {
        pos seen = m.snapshot();
        if (m.update_if(seen.seq, [&](pos& p) { p.x = seen.x + dx; })) break;
      }
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "mapped_seq: %s: %s\n", argv[1], e.code().message().c_str());
    return 1;
  }
  return 0;
}
