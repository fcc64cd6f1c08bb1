// SPDX-License-Identifier: MIT
#include "fieldfs/schema.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>

namespace fieldfs {

bool is_integer(Type t) { return t <= Type::u64; }

bool is_signed(Type t) {
  return t == Type::i8 || t == Type::i16 || t == Type::i32 || t == Type::i64;
}

std::string_view type_keyword(Type t) {
  switch (t) {
    case Type::i8:
      return "int8_t";
    case Type::u8:
      return "uint8_t";
    case Type::i16:
      return "int16_t";
    case Type::u16:
      return "uint16_t";
    case Type::i32:
      return "int32_t";
    case Type::u32:
      return "uint32_t";
    case Type::i64:
      return "int64_t";
    case Type::u64:
      return "uint64_t";
    case Type::f32:
      return "float";
    case Type::f64:
      return "double";
    case Type::boolean:
      return "bool";
    case Type::chars:
      return "char[]";
  }
  return "?";
}

Schema::Schema(std::string struct_name, std::uint32_t size, std::uint32_t align)
    : struct_name_(std::move(struct_name)), size_(size), align_(align) {
  Node root;
  root.is_dir = true;
  root.type_name = "struct " + struct_name_;
  nodes_.push_back(std::move(root));
}

std::string Schema::key(std::uint32_t parent, std::string_view name) {
  std::string k(sizeof parent, '\0');
  std::memcpy(k.data(), &parent, sizeof parent);
  k.append(name);
  return k;
}

std::uint32_t Schema::add_dir(std::uint32_t parent, std::string name, std::string type_name) {
  Node n;
  n.name = std::move(name);
  n.type_name = std::move(type_name);
  n.parent = parent;
  n.is_dir = true;
  auto index = node_count();
  index_.emplace(key(parent, n.name), index);
  nodes_[parent].children.push_back(index);
  nodes_.push_back(std::move(n));
  return index;
}

std::uint32_t Schema::add_leaf(std::uint32_t parent, std::string name, std::string type_name,
                               Leaf leaf) {
  auto index = add_dir(parent, std::move(name), std::move(type_name));
  nodes_[index].is_dir = false;
  nodes_[index].leaf = leaf;
  return index;
}

std::int32_t Schema::add_enum(std::vector<Enumerator> values) {
  enums_.push_back(std::move(values));
  return static_cast<std::int32_t>(enums_.size() - 1);
}

std::optional<std::uint32_t> Schema::find(std::uint32_t parent, std::string_view name) const {
  auto it = index_.find(key(parent, name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const std::vector<Enumerator>& Schema::enumerators(std::int32_t index) const {
  return enums_.at(static_cast<std::size_t>(index));
}

std::string Schema::path(std::uint32_t index) const {
  std::string p;
  while (index != 0) {
    p = p.empty() ? nodes_[index].name : nodes_[index].name + "/" + std::move(p);
    index = nodes_[index].parent;
  }
  return p;
}

Schema Schema::builtin_foo() {
  Schema s("foo", 8, 4);
  s.add_leaf(0, "bar", "int", Leaf{Type::i32, 0, 4});
  s.add_leaf(0, "baz", "int", Leaf{Type::i32, 4, 4});
  return s;
}

namespace {

void layout_rows(const Schema& s, std::uint32_t index, std::ostringstream& out) {
  for (auto child : s.node(index).children) {
    const Node& n = s.node(child);
    if (n.is_dir) {
      layout_rows(s, child, out);
      continue;
    }
    std::string where = std::to_string(n.leaf.offset);
    if (n.leaf.bit_width != 0) {
      where += ":" + std::to_string(n.leaf.bit_offset) + "+" + std::to_string(n.leaf.bit_width);
    }
    char row[512];
    std::snprintf(row, sizeof row, "%-32s %-20s %8s %6u  %s\n", s.path(child).c_str(),
                  n.type_name.c_str(), where.c_str(), n.leaf.size,
                  n.leaf.is_const ? "0444" : "0644");
    out << row;
  }
}

}  // namespace

std::string layout_text(const Schema& s) {
  std::ostringstream out;
  char head[256];
  std::snprintf(head, sizeof head, "%-32s %-20s %8s %6s  %s\n", "PATH", "TYPE", "OFFSET", "SIZE",
                "MODE");
  out << head;
  layout_rows(s, 0, out);
  out << "struct " << s.struct_name() << ": size " << s.size() << ", align " << s.align() << "\n";
  return out.str();
}

}  // namespace fieldfs
