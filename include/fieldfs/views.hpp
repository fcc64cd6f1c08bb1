// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

namespace fieldfs {

/// The struct's bytes, exactly schema.size() of them, after one size check: each aligned 8-byte
/// word one atomic load (Segment::bytes), padding as it is. EIO: the segment is shorter.
Result<std::string> render_raw(const Schema& schema, const Segment& segment);

/// Stores `bytes` field by field (const fields and padding untouched). EINVAL: not exactly
/// schema.size() bytes (nothing stored); EIO: segment shorter; EROFS: read-only segment.
Result<void> store_raw(const Schema& schema, Segment& segment, std::string_view bytes);

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
Result<void> store_json(const Schema& schema, Segment& segment, std::string_view text);

namespace detail {
/// Ok if the segment currently holds all `size` bytes of the struct, checked before a store so a
/// short segment changes nothing. EIO.
Result<void> check_reach(const Segment& segment, std::uint32_t size);
}  // namespace detail

}  // namespace fieldfs
