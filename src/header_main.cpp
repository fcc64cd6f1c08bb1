// SPDX-License-Identifier: MIT
// fieldfs-header: reads a C header with libclang and writes the chosen struct's schema in its
// wire form to stdout, for fieldfs to read. A separate program so that the daemon never maps
// libclang and LLVM (about 58 MiB resident, 10 MiB of it private) for the life of a mount.
//
//     fieldfs-header FILE STRUCT [INCLUDE_DIR...]     (STRUCT "" picks the last one defined)
//
// Exit 0 with the schema on stdout, or 1 with the one-line reason as the last line on stderr
// (libclang may have written its own lines before it).
#include <stdlib.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fieldfs/header_schema.hpp"
#include "fieldfs/schema.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FIELDFS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FIELDFS_SANITIZED 1
#endif
#endif

namespace {

/// What a hostile header (`#include "/dev/zero"`) may take: 1 GiB of address space (a 16 MiB
/// header of 350,000 structs parses within it) and 60 s of CPU. The sanitizers reserve terabytes
/// of shadow address space, so their builds keep only the CPU bound.
void limit_resources() {
  rlimit cpu{60, 60};
  ::setrlimit(RLIMIT_CPU, &cpu);
#ifndef FIELDFS_SANITIZED
  rlimit space{rlim_t{1} << 30, rlim_t{1} << 30};
  ::setrlimit(RLIMIT_AS, &space);
#endif
}

/// The layout must not depend on who mounts: drop the variables that add header search paths.
void clear_compiler_environment() {
  for (const char* name : {"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH",
                           "OBJCPLUS_INCLUDE_PATH"}) {
    ::unsetenv(name);
  }
}

/// The reason on one line, whatever the paths it quotes hold.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  limit_resources();
  clear_compiler_environment();
  if (argc < 3) {
    std::fputs("usage: fieldfs-header FILE STRUCT [INCLUDE_DIR...]\n", stderr);
    return 2;
  }
  fieldfs::HeaderSchemaRequest request{argv[1], argv[2],
                                       std::vector<std::string>(argv + 3, argv + argc)};
  auto loaded = fieldfs::load_header_schema(request);
  if (!loaded.schema) {
    std::fprintf(stderr, "%s\n", one_line(loaded.error).c_str());
    return 1;
  }
  std::string wire = fieldfs::schema_to_wire(*loaded.schema);
  bool written = std::fwrite(wire.data(), 1, wire.size(), stdout) == wire.size();
  return written && std::fflush(stdout) == 0 ? 0 : 1;
}
