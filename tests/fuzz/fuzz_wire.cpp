// SPDX-License-Identifier: MIT
// schema_from_wire, which reads what fieldfs-header wrote. Input: any bytes. Invariants: it
// never crashes; whatever it accepts writes back to exactly the same bytes (so every field read
// was checked and nothing was dropped), and every leaf lies inside the struct.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fieldfs/schema.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto schema = schema_from_wire(bytes);
  if (!schema) return 0;
  FUZZ_CHECK(schema_to_wire(*schema) == bytes, "accepted bytes do not write back the same");
  for (std::uint32_t i = 0; i < schema->node_count(); ++i) {
    const Node& n = schema->node(i);
    if (n.is_dir) continue;
    FUZZ_CHECK(std::uint64_t{n.leaf.offset} + n.leaf.size <= schema->size(),
               "leaf " + schema->path(i) + " past the struct");
  }
  return 0;
}
