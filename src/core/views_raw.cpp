// SPDX-License-Identifier: MIT
// .raw: the struct's bytes, as one image (Segment::bytes): each aligned 8-byte word is one atomic
// load, so every naturally aligned scalar, a union's words included, shows a value that was
// stored. Whole-struct atomicity is impossible without a lock that programs mapping the segment
// never take, so words may come from different moments.
#include "core/codec.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {

bool inside(const Leaf& leaf, std::uint32_t size) {
  return leaf.size <= size && leaf.offset <= size - leaf.size;
}

}  // namespace

Result<std::string> render_raw(const Schema& schema, const Segment& segment) {
  return segment.bytes(0, schema.size());
}

Result<std::vector<FieldStore>> raw_stores(const Schema& schema, std::string_view bytes,
                                           const Leaf* skip) {
  if (bytes.size() != schema.size()) return fail(std::errc::invalid_argument);
  std::vector<FieldStore> stores;
  for (std::uint32_t i = 0; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    if (n.is_dir || n.leaf.is_const || (skip != nullptr && n.leaf.offset == skip->offset) ||
        !inside(n.leaf, schema.size()))
      continue;
    stores.push_back(FieldStore{&n.leaf, std::string(bytes.substr(n.leaf.offset, n.leaf.size))});
  }
  return stores;
}

Result<void> store_raw(const Schema& schema, Segment& segment, std::string_view bytes,
                       const Leaf* skip) {
  auto stores = raw_stores(schema, bytes, skip);
  if (!stores) return Error{stores.error()};
  return store_fields(schema, segment, *stores);
}

}  // namespace fieldfs
