// SPDX-License-Identifier: MIT
// The schema's wire form, between fieldfs-header and fieldfs. Text, one token after another:
// numbers in decimal followed by a space, strings as LENGTH ":" BYTES " " so that any byte may
// appear in a name. Reading checks everything a Schema relies on (a parent exists and is a
// directory, names are unique in it, a leaf's bytes lie inside the struct, an enum index
// exists), since the bytes come from another process.
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fieldfs/schema.hpp"

namespace fieldfs {

namespace {

constexpr std::string_view kMagic = "fieldfs-schema 1\n";

void put(std::string& out, std::int64_t n) {
  out += std::to_string(n);
  out += ' ';
}

void put(std::string& out, std::string_view s) {
  put(out, static_cast<std::int64_t>(s.size()));
  out.back() = ':';
  out.append(s);
  out += ' ';
}

/// Reads tokens from the front of the bytes; any malformed token makes every later read fail.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  template <typename T>
  bool num(T& value, std::int64_t lo = std::numeric_limits<T>::min(),
           std::int64_t hi = std::numeric_limits<T>::max()) {
    std::int64_t n = 0;
    if (!number(n, ' ') || n < lo || n > hi) return ok_ = false;
    value = static_cast<T>(n);
    return true;
  }
  bool str(std::string& value) {
    std::int64_t n = 0;
    if (!number(n, ':') || n < 0 || static_cast<std::uint64_t>(n) + 1 > in_.size()) {
      return ok_ = false;
    }
    auto len = static_cast<std::size_t>(n);
    if (in_[len] != ' ') return ok_ = false;
    value.assign(in_.substr(0, len));
    in_.remove_prefix(len + 1);
    return true;
  }
  bool at_end() const { return ok_ && in_.empty(); }

 private:
  bool number(std::int64_t& n, char end) {
    if (!ok_) return false;
    auto [p, ec] = std::from_chars(in_.data(), in_.data() + in_.size(), n);
    if (ec != std::errc{} || p == in_.data() + in_.size() || *p != end) return ok_ = false;
    auto len = static_cast<std::size_t>(p - in_.data());
    if (len != std::to_string(n).size()) return ok_ = false;  // only as written: no 007, no -0
    in_.remove_prefix(len + 1);
    return true;
  }

  std::string_view in_;
  bool ok_ = true;
};

bool read_leaf(Reader& r, const Schema& s, Leaf& leaf) {
  bool ok = r.num(leaf.type, 0, static_cast<std::int64_t>(Type::chars)) && r.num(leaf.offset) &&
            r.num(leaf.size, 1) && r.num(leaf.bit_offset, 0, 63) && r.num(leaf.bit_width, 0, 64) &&
            r.num(leaf.is_const, 0, 1) && r.num(leaf.enum_index, -1, s.enum_count() - 1);
  return ok && std::uint64_t{leaf.offset} + leaf.size <= s.size();
}

bool read_node(Reader& r, Schema& s, std::uint32_t index) {
  std::uint32_t parent = 0;
  bool is_dir = false;
  std::string name;
  std::string type_name;
  if (!r.num(parent, 0, index - 1) || !r.num(is_dir, 0, 1) || !r.str(name) || !r.str(type_name)) {
    return false;
  }
  if (name.empty() || !s.node(parent).is_dir || s.find(parent, name)) return false;
  if (is_dir) return s.add_dir(parent, std::move(name), std::move(type_name)) == index;
  Leaf leaf;
  return read_leaf(r, s, leaf) &&
         s.add_leaf(parent, std::move(name), std::move(type_name), leaf) == index;
}

}  // namespace

std::string schema_to_wire(const Schema& schema) {
  std::string out(kMagic);
  put(out, schema.struct_name());
  put(out, schema.size());
  put(out, schema.align());
  put(out, schema.enum_count());
  for (std::int32_t e = 0; e < schema.enum_count(); ++e) {
    const auto& values = schema.enumerators(e);
    put(out, static_cast<std::int64_t>(values.size()));
    for (const auto& v : values) {
      put(out, v.name);
      put(out, v.value);
    }
  }
  put(out, schema.node_count());
  for (std::uint32_t i = 1; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    put(out, n.parent);
    put(out, n.is_dir ? 1 : 0);
    put(out, n.name);
    put(out, n.type_name);
    if (n.is_dir) continue;
    const Leaf& l = n.leaf;
    for (std::int64_t v :
         {std::int64_t{static_cast<std::uint8_t>(l.type)}, std::int64_t{l.offset},
          std::int64_t{l.size}, std::int64_t{l.bit_offset}, std::int64_t{l.bit_width},
          std::int64_t{l.is_const ? 1 : 0}, std::int64_t{l.enum_index}}) {
      put(out, v);
    }
  }
  return out;
}

std::optional<Schema> schema_from_wire(std::string_view bytes) {
  if (!bytes.starts_with(kMagic)) return std::nullopt;
  Reader r(bytes.substr(kMagic.size()));
  std::string name;
  std::uint32_t size = 0;
  std::uint32_t align = 0;
  std::int32_t enums = 0;
  if (!r.str(name) || !r.num(size) || !r.num(align, 1) || !r.num(enums, 0)) return std::nullopt;
  Schema s(std::move(name), size, align);
  for (std::int32_t e = 0; e < enums; ++e) {
    std::uint32_t count = 0;
    if (!r.num(count)) return std::nullopt;
    std::vector<Enumerator> values;  // grown as values arrive: a false count runs out of bytes
    for (std::uint32_t i = 0; i < count; ++i) {
      Enumerator v;
      if (!r.str(v.name) || !r.num(v.value)) return std::nullopt;
      values.push_back(std::move(v));
    }
    s.add_enum(std::move(values));
  }
  std::uint32_t nodes = 0;
  if (!r.num(nodes, 1)) return std::nullopt;
  for (std::uint32_t i = 1; i < nodes; ++i) {
    if (!read_node(r, s, i)) return std::nullopt;
  }
  if (!r.at_end()) return std::nullopt;
  return s;
}

}  // namespace fieldfs
