// SPDX-License-Identifier: MIT
// .raw: the struct's bytes. Whole-struct atomicity is impossible without a lock that programs
// mapping the segment never take, so the promise is the field files' one: each aligned field is a
// single atomic access, and a bit-field's storage unit is merged so its neighbours stay intact.
#include <cstring>

#include "fieldfs/codec.hpp"
#include "fieldfs/views.hpp"

namespace fieldfs {

namespace {

/// A plain byte range, which Segment::load copies as it is.
Leaf byte_range(std::uint32_t offset, std::uint32_t size) {
  Leaf leaf;
  leaf.type = Type::chars;
  leaf.offset = offset;
  leaf.size = size;
  return leaf;
}

bool inside(const Leaf& leaf, std::uint32_t size) {
  return leaf.size <= size && leaf.offset <= size - leaf.size;
}

/// Only the field's own bits: a bit-field's storage unit may cover other fields' bytes, whose
/// own atomic loads must not be overwritten by this older or newer sample.
void overlay(std::string& out, const Leaf& leaf, std::string_view bytes) {
  if (leaf.bit_width == 0) {
    std::memcpy(out.data() + leaf.offset, bytes.data(), bytes.size());
    return;
  }
  std::uint64_t mask = bit_mask(leaf);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto m = static_cast<unsigned char>(mask >> (8 * i));
    auto old = static_cast<unsigned char>(out[leaf.offset + i]);
    out[leaf.offset + i] =
        static_cast<char>((old & ~m) | (static_cast<unsigned char>(bytes[i]) & m));
  }
}

}  // namespace

Result<void> detail::check_reach(const Segment& segment, std::uint32_t size) {
  if (size == 0) return {};
  auto last = segment.load(byte_range(size - 1, 1));
  if (!last) return Error{last.error()};
  return {};
}

Result<std::string> render_raw(const Schema& schema, const Segment& segment) {
  auto whole = segment.load(byte_range(0, schema.size()));
  if (!whole) return whole;
  std::string out = std::move(*whole);
  for (std::uint32_t i = 0; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    if (n.is_dir || !inside(n.leaf, schema.size())) continue;
    auto bytes = segment.load(n.leaf);
    if (!bytes) return bytes;
    overlay(out, n.leaf, *bytes);
  }
  return out;
}

Result<void> store_raw(const Schema& schema, Segment& segment, std::string_view bytes) {
  if (bytes.size() != schema.size()) return fail(std::errc::invalid_argument);
  if (auto ok = detail::check_reach(segment, schema.size()); !ok) return ok;
  for (std::uint32_t i = 0; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    if (n.is_dir || n.leaf.is_const || !inside(n.leaf, schema.size())) continue;
    auto ok = segment.store(n.leaf, bytes.substr(n.leaf.offset, n.leaf.size));
    if (!ok) return ok;
  }
  return {};
}

}  // namespace fieldfs
