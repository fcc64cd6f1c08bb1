// SPDX-License-Identifier: MIT
#pragma once

#include <clang-c/Index.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fieldfs/schema.hpp"

namespace fieldfs::detail {

/// How a scalar C type is stored in a field file; `type` is empty for types fieldfs refuses.
struct ScalarKind {
  std::optional<Type> type;
  std::uint32_t size = 0;
  bool is_enum = false;
  CXType canonical{};  ///< the enum type when is_enum
};

/// Maps an integer, _Bool, float, double or enum type (through typedefs, qualifiers, _Atomic).
ScalarKind scalar_kind(CXType type);

/// Why member `name` of `type` cannot be a field: "pointer member 'p' cannot be shared ...".
std::string refusal(const std::string& name, CXType type);

/// The storage unit of a bit-field at absolute bit `bit`: the smallest naturally aligned 1, 2, 4
/// or 8 bytes inside the struct that hold all its bits, else the smallest byte range that does
/// (packed structs). Empty if that range exceeds 8 bytes.
std::optional<Leaf> bit_field_leaf(std::uint64_t bit, unsigned width, std::uint32_t struct_size);

/// The enumerators of an enum declaration, in declaration order.
std::vector<Enumerator> enumerators(CXCursor enum_decl);

}  // namespace fieldfs::detail
