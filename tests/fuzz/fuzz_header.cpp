// SPDX-License-Identifier: MIT
// load_header_schema on the input written to a .h file (struct=: the last one defined).
// Invariants: never throws or crashes; either a schema or a one-line error; a schema keeps
// SPEC §7's limits and every field inside the struct, a bit-field inside its storage unit.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz_support.hpp"
#include "header/header_schema.hpp"

using namespace fieldfs;

namespace {

std::string g_dir;

void remove_dir() {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}

void check_schema(const Schema& s) {
  FUZZ_CHECK(s.size() <= (1U << 20), std::to_string(s.size()));
  FUZZ_CHECK(s.align() >= 1 && (s.align() & (s.align() - 1)) == 0, std::to_string(s.align()));
  FUZZ_CHECK(s.node_count() <= 200001, std::to_string(s.node_count()));
  for (std::uint32_t i = 1; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    FUZZ_CHECK(n.parent < i && s.node(n.parent).is_dir, s.path(i));
    if (n.is_dir) continue;
    const Leaf& l = n.leaf;
    FUZZ_CHECK(l.size > 0 && l.offset <= s.size() && l.size <= s.size() - l.offset, s.path(i));
    if (l.type != Type::chars && l.bit_width == 0) {
      FUZZ_CHECK(l.size == 1 || l.size == 2 || l.size == 4 || l.size == 8, s.path(i));
    }
    if (l.bit_width != 0) {
      FUZZ_CHECK(l.size <= 8 && l.bit_offset + l.bit_width <= l.size * 8U, s.path(i));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // libclang's crash recovery installs signal handlers and threads that get in libFuzzer's way.
  ::setenv("LIBCLANG_DISABLE_CRASH_RECOVERY", "1", 1);
  char dir[] = "/tmp/fieldfs-fuzz-header-XXXXXX";
  if (::mkdtemp(dir) == nullptr) std::abort();
  g_dir = dir;
  std::atexit(remove_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string file = g_dir + "/fuzz.h";
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);

  HeaderSchemaResult r = load_header_schema({file, "", {}});
  FUZZ_CHECK(r.schema.has_value() != !r.error.empty(), r.error);
  if (!r.schema) {
    FUZZ_CHECK(r.error.find('\n') == std::string::npos, fuzz::escaped(r.error));
    return 0;
  }
  check_schema(*r.schema);
  return 0;
}
