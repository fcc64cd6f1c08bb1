// SPDX-License-Identifier: MIT
#pragma once

#include "fieldfs/schema.hpp"

namespace fieldfs::test {

/// A Leaf for hand-built schemas: `type` at `offset`, `size` bytes; bit-field and enum optional.
inline Leaf leaf(Type type, std::uint32_t offset, std::uint32_t size, std::uint8_t bit_offset = 0,
                 std::uint8_t bit_width = 0, std::int32_t enum_index = -1) {
  Leaf l;
  l.type = type;
  l.offset = offset;
  l.size = size;
  l.bit_offset = bit_offset;
  l.bit_width = bit_width;
  l.enum_index = enum_index;
  return l;
}

}  // namespace fieldfs::test
