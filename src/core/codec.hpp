// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"

namespace fieldfs {

/// Most text one write may collect for a field (SPEC §5); more fails with EFBIG.
inline constexpr std::size_t kMaxTextBytes = 4096;

/// A field's bytes (leaf.size of them, the storage unit for bit-fields) as text ending in '\n'.
std::string format_value(const Schema& schema, const Leaf& leaf, std::string_view bytes);

/// The longest text format_value can return for this field, newline included (from its type:
/// char[N] at N bytes, integers at their longest decimal or enumerator name, floats at the
/// shortest round-trip form's longest).
std::size_t text_bound(const Schema& schema, const Leaf& leaf);

/// Text to the bytes to store (leaf.size of them; for bit-fields the value already shifted into
/// its place, see bit_mask). Returns nullopt for text that can still become a value (no newline
/// yet: "-", "0x", blanks). EINVAL: not a value; ERANGE: outside the type; EFBIG: too long.
Result<std::optional<std::string>> parse_value(const Schema& schema, const Leaf& leaf,
                                               std::string_view text);

/// The bits of its storage unit that a field occupies (all of them unless a bit-field).
std::uint64_t bit_mask(const Leaf& leaf);

}  // namespace fieldfs
