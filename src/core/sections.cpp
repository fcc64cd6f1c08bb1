// SPDX-License-Identifier: MIT
#include "core/sections.hpp"

#include <cstring>

namespace fieldfs {

namespace {

/// The node PATH names, its parts split at '/' or '.'.
std::optional<std::uint32_t> walk(const Schema& schema, std::string_view path) {
  std::uint32_t node = 0;
  while (!path.empty()) {
    auto cut = path.find_first_of("/.");
    auto part = path.substr(0, cut);
    if (!schema.node(node).is_dir) return std::nullopt;
    auto child = schema.find(node, part);
    if (!child) return std::nullopt;
    node = *child;
    path = cut == std::string_view::npos ? std::string_view() : path.substr(cut + 1);
  }
  return node;
}

/// Another field whose bytes overlap the counter's, if one does.
std::optional<std::uint32_t> overlapping(const Schema& schema, std::uint32_t counter) {
  const Leaf& c = schema.node(counter).leaf;
  for (std::uint32_t i = 0; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    if (i == counter || n.is_dir) continue;
    if (n.leaf.offset < c.offset + c.size && c.offset < n.leaf.offset + n.leaf.size) return i;
  }
  return std::nullopt;
}

}  // namespace

CounterCheck find_counter(const Schema& schema, std::string_view path) {
  std::string named = "-o seq=" + std::string(path) + ": ";
  auto node = walk(schema, path);
  if (path.empty() || !node) return {0, named + "no such field in struct " + schema.struct_name()};
  const Node& n = schema.node(*node);
  if (n.is_dir) return {0, named + "a " + n.type_name + ", not an unsigned integer"};
  const Leaf& leaf = n.leaf;
  bool is_unsigned = leaf.type == Type::u32 || leaf.type == Type::u64;
  if (!is_unsigned || leaf.enum_index >= 0) {
    return {0, named + n.type_name + " is not an unsigned integer of 4 or 8 bytes"};
  }
  if (leaf.bit_width != 0) return {0, named + "a bit-field cannot be the counter"};
  if (leaf.offset % leaf.size != 0) {
    return {0, named + "not aligned to its size (offset " + std::to_string(leaf.offset) + ")"};
  }
  if (leaf.is_const) return {0, named + "const, but writers change the counter"};
  if (auto other = overlapping(schema, *node)) {
    return {0, named + "shares its bytes with " + schema.path(*other) + " (a union member)"};
  }
  return {*node, {}};
}

std::uint64_t counter_value(std::string_view bytes) {
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data(), std::min(bytes.size(), sizeof v));  // little-endian
  return v;
}

Sections::Sections(const Segment& segment, const Leaf* counter, std::chrono::nanoseconds bound)
    : segment_(segment),
      counter_(counter ? std::optional<Leaf>(*counter) : std::nullopt),
      lock_(counter ? segment.data() + counter->offset : reinterpret_cast<std::byte*>(&own_),
            counter ? counter->size : 8U, bound) {}

}  // namespace fieldfs
