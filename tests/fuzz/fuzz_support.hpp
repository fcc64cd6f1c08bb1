// SPDX-License-Identifier: MIT
// What the fuzz targets share: one struct that has every kind of field the product serves, the
// shm segment that holds it, and the invariants more than one target asserts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

namespace fieldfs::fuzz {

/// Prints "file:line: invariant broken: what (detail)" to stderr and aborts, which libFuzzer
/// reports as a crash with the input that caused it.
[[noreturn]] void broken(const char* file, int line, const char* what, std::string_view detail);

#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond)) ::fieldfs::fuzz::broken(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

/// Bytes as "\x.." escapes, for the messages of broken invariants.
std::string escaped(std::string_view bytes);

/// A struct with every Type, char[N] of several sizes, enums (signed, unsigned, as bit-fields),
/// signed and unsigned bit-fields in 1, 3, 4 and 8-byte units, const fields, a nested struct, an
/// array, an array of structs, an empty struct and padding; laid out as x86-64 gcc does.
const Schema& schema();

/// The schema's leaves, in node order.
const std::vector<const Leaf*>& leaves();

/// Per byte of the struct, the bits that a store of a non-const field may change.
const std::vector<unsigned char>& writable_bits();

/// A shm segment of exactly schema().size() bytes, created on first use under a name unique to
/// the process and unlinked at once, so a crashing run leaves nothing in /dev/shm.
Segment& segment();

/// The segment's bytes.
std::string snapshot();
/// Overwrites the segment's bytes with `bytes`, cycled or cut to the struct's size.
void fill(std::string_view bytes);

/// Stores, in every leaf, the value its own text parses back to, so the state renders and stores
/// back byte for byte: strings are canonical() and valid UTF-8 (non-UTF-8
/// bytes become '?', JSON cannot carry them), a NaN loses its payload, a bool is 0 or 1.
void canonicalize();

/// The bytes a string field holds once its text is written back: `bytes` itself, except that a
/// string ends at its first NUL (or after N-1 bytes, the most a write takes) and is zero-filled.
std::string canonical(const Leaf& leaf, std::string_view bytes);

/// Invariants of a value parse_value returned: leaf.size bytes, nothing outside the field's bits,
/// and format_value's text of it parses back to canonical() of it.
void check_value(const Schema& schema, const Leaf& leaf, std::string_view bytes);

/// The errno values parse_value documents: EINVAL, ERANGE, EFBIG.
bool parse_error(std::errc e);

}  // namespace fieldfs::fuzz
