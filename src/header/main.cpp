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
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/text.hpp"
#include "fieldfs/schema.hpp"
#include "header/header_schema.hpp"

namespace {

constexpr long kMaxResidentMiB = 1024;

/// What a hostile header (`#include "/dev/zero"`) may take: 60 s of CPU and 1 GiB of memory (a
/// 16 MiB header of 350,000 structs needs a third of it). Memory is watched, not limited with
/// RLIMIT_AS, because the sanitizers reserve terabytes of address space.
void limit_resources(std::string file) {
  rlimit cpu{60, 60};
  ::setrlimit(RLIMIT_CPU, &cpu);
  std::thread([file = std::move(file)] {
    long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      long pages = 0;
      long resident = 0;
      std::FILE* statm = std::fopen("/proc/self/statm", "r");
      if (statm == nullptr) return;
      int got = std::fscanf(statm, "%ld %ld", &pages, &resident);
      std::fclose(statm);
      if (got == 2 && resident * page_kib / 1024 > kMaxResidentMiB) {
        std::fprintf(stderr, "%s: needs more than %ld MiB to read (does it #include a device?)\n",
                     file.c_str(), kMaxResidentMiB);
        std::_Exit(1);
      }
    }
  }).detach();
}

/// The layout must not depend on who mounts: drop the variables that add header search paths.
void clear_compiler_environment() {
  for (const char* name : {"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH",
                           "OBJCPLUS_INCLUDE_PATH"}) {
    ::unsetenv(name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  clear_compiler_environment();
  if (argc < 3) {
    std::fputs("usage: fieldfs-header FILE STRUCT [INCLUDE_DIR...]\n", stderr);
    return 2;
  }
  limit_resources(fieldfs::one_line(argv[1]));
  fieldfs::HeaderSchemaRequest request{argv[1], argv[2],
                                       std::vector<std::string>(argv + 3, argv + argc)};
  auto loaded = fieldfs::load_header_schema(request);
  if (!loaded.schema) {
    std::fprintf(stderr, "%s\n", fieldfs::one_line(loaded.error).c_str());
    return 1;
  }
  std::string wire = fieldfs::schema_to_wire(*loaded.schema);
  bool written = std::fwrite(wire.data(), 1, wire.size(), stdout) == wire.size();
  return written && std::fflush(stdout) == 0 ? 0 : 1;
}
