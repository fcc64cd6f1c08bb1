// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

namespace fieldfs {

/// The struct's bytes, exactly schema.size() of them, after one size check: each aligned 8-byte
/// word one atomic load (Segment::bytes), padding as it is. EIO: the segment is shorter.
Result<std::string> render_raw(const Schema& schema, const Segment& segment);

/// A field's validated bytes, stored once the whole write has passed.
struct FieldStore {
  const Leaf* leaf;
  std::string bytes;
};

/// The stores a .raw image asks for: every field but const ones and `skip` (padding untouched).
/// EINVAL: not exactly schema.size() bytes.
Result<std::vector<FieldStore>> raw_stores(const Schema& schema, std::string_view bytes,
                                           const Leaf* skip = nullptr);
/// raw_stores, then store_fields. EINVAL (nothing stored); EIO: segment shorter; EROFS.
Result<void> store_raw(const Schema& schema, Segment& segment, std::string_view bytes,
                       const Leaf* skip = nullptr);

/// True for a directory whose children are "0" … "N-1" in order (N > 0): a C array.
bool is_array_dir(const Schema& schema, std::uint32_t node);

/// Every field as one JSON object in declaration order, then "\n", formatted from one image
/// (render_raw). EIO: segment shorter.
Result<std::string> render_json(const Schema& schema, const Segment& segment);
/// The same from an image render_raw took. EIO: a field lies past the image's end.
Result<std::string> render_json(const Schema& schema, std::string_view image);

/// Stores a JSON object holding any subset of the fields, all checked before anything is stored.
/// EINVAL: not JSON, wrong shape or type, unknown field; ERANGE: number outside the field's type;
/// EFBIG: string too long; EACCES: a const field given a different value; EIO; EROFS.
/// A number beyond double's range gets the errno a field file gives its text (ERANGE for a float
/// field); a document with more than 8 such numbers is EINVAL. A document cut short is EINVAL.
Result<void> store_json(const Schema& schema, Segment& segment, std::string_view text);

/// How json_stores treats a const field: compared with the segment (EACCES if it differs), or
/// left out (a document from another host, whose const fields are its own).
enum class ConstFields : std::uint8_t { compare, skip };

/// The stores a .json document asks for, every field checked; nullopt for a document cut short.
/// The errors of store_json, and nothing stored.
Result<std::optional<std::vector<FieldStore>>> json_stores(
    const Schema& schema, const Segment& segment, std::string_view text,
    ConstFields const_fields = ConstFields::compare);
/// Stores json_stores' fields after one size check. EIO, EROFS.
Result<void> store_fields(const Schema& schema, Segment& segment,
                          const std::vector<FieldStore>& stores);

/// As store_json, for text that may be only the start of a document: false (nothing stored) when
/// the JSON library reads it as a document cut short, true once stored; the same errors.
Result<bool> store_json_if_complete(const Schema& schema, Segment& segment, std::string_view text);

/// The longest text render_json can return for this schema (computed from types, not values):
/// each char[N] at N bytes rendered at their worst (a control byte is \u00XX, six bytes).
std::size_t json_bound(const Schema& schema);

/// The most text one .json write may collect: json_bound plus, for every field and directory, a
/// newline, a separator's extra blanks and 8 columns of indentation per nesting level (writers
/// that pretty-print), plus 64 KiB.
std::size_t json_write_bound(const Schema& schema);

}  // namespace fieldfs
