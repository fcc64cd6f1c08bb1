// SPDX-License-Identifier: MIT
// fieldfs-header: reads a C header with libclang and writes the chosen struct's schema in its
// wire form to stdout, for fieldfs to read. A separate program so that the daemon never maps
// libclang and LLVM (about 58 MiB resident, 10 MiB of it private) for the life of a mount.
//
//     fieldfs-header FILE STRUCT [INCLUDE_DIR...]     (STRUCT "" picks the last one defined)
//
// Exit 0 with the schema on stdout, or 1 with the one-line reason on stderr.
#include <cstdio>
#include <string>
#include <vector>

#include "fieldfs/header_schema.hpp"
#include "fieldfs/schema.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: fieldfs-header FILE STRUCT [INCLUDE_DIR...]\n", stderr);
    return 2;
  }
  fieldfs::HeaderSchemaRequest request{argv[1], argv[2],
                                       std::vector<std::string>(argv + 3, argv + argc)};
  auto loaded = fieldfs::load_header_schema(request);
  if (!loaded.schema) {
    std::fprintf(stderr, "%s\n", loaded.error.c_str());
    return 1;
  }
  std::string wire = fieldfs::schema_to_wire(*loaded.schema);
  bool written = std::fwrite(wire.data(), 1, wire.size(), stdout) == wire.size();
  return written && std::fflush(stdout) == 0 ? 0 : 1;
}
