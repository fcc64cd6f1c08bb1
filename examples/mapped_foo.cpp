// SPDX-License-Identifier: MIT
// Maps the segment fieldfs serves with fieldfs::Mapped and reads or sets a field directly: the
// same bytes the files show, opened with the daemon's own rules (a missing segment is created,
// zeroed, with mode 0600; a bigger one is never shrunk).
//   Build: c++ -std=c++20 mapped_foo.cpp $(pkg-config --cflags --libs fieldfs) -o mapped_foo
//   Use:   mapped_foo such_foo get bar | mapped_foo such_foo set baz 7
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "fieldfs/mapped.hpp"

struct foo {
  int bar;
  int baz;
};

int main(int argc, char** argv) {
  bool set = argc == 5 && std::strcmp(argv[2], "set") == 0;
  bool get = argc == 4 && std::strcmp(argv[2], "get") == 0;
  if (!set && !get) {
    std::fprintf(stderr, "usage: %s SOURCE get|set bar|baz [VALUE]\n", argv[0]);
    return 2;
  }
  try {
    fieldfs::Mapped<foo> m{argv[1]};
    int foo::*field = std::strcmp(argv[3], "bar") == 0 ? &foo::bar : &foo::baz;
    if (get) {
      std::printf("%d\n", m.load(field));  // one atomic load, as fieldfs reads it
    } else {
      m.store(field, std::atoi(argv[4]));  // one atomic store: `cat` shows it at once
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "mapped_foo: %s: %s\n", argv[1], e.code().message().c_str());
    return 1;
  }
  return 0;
}
