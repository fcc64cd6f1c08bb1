// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fieldfs {

/// The storage type of a field file. Enums and bit-fields are integers with extra Leaf data.
enum class Type : std::uint8_t { i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, boolean, chars };

/// True for the integer types i8 … u64.
bool is_integer(Type t);
/// True for i8, i16, i32, i64.
bool is_signed(Type t);
/// C spelling of a type, for layouts: "int32_t", "double", "char[]".
std::string_view type_keyword(Type t);

/// One named value of an enum.
struct Enumerator {
  std::string name;
  std::int64_t value = 0;
};

/// Where a scalar field lives in the segment and how its bytes read as text.
struct Leaf {
  Type type = Type::i32;
  std::uint32_t offset = 0;      ///< byte offset from the start of the struct (storage unit)
  std::uint32_t size = 0;        ///< bytes at offset: the type's size, N for char[N]
  std::uint8_t bit_offset = 0;   ///< bit-fields: lowest bit inside the storage unit
  std::uint8_t bit_width = 0;    ///< 0 unless a bit-field
  bool is_const = false;         ///< read-only file (0444); writes fail with EACCES
  std::int32_t enum_index = -1;  ///< >= 0: index into Schema::enumerators()
};

/// A file (leaf) or a directory (struct, union, array) of the mounted tree.
struct Node {
  std::string name;
  std::string type_name;  ///< as the header spells it: "int", "struct pos", "char[16]"
  std::uint32_t parent = 0;
  bool is_dir = false;
  std::vector<std::uint32_t> children;  ///< directories: in declaration order
  Leaf leaf;                            ///< files only
};

/// The tree a mount serves: node 0 is the root (the struct itself). Inode = index + 1.
class Schema {
 public:
  Schema(std::string struct_name, std::uint32_t size, std::uint32_t align);

  /// Adds a directory under `parent`; returns its index.
  std::uint32_t add_dir(std::uint32_t parent, std::string name, std::string type_name);
  /// Adds a field file under `parent`; returns its index.
  std::uint32_t add_leaf(std::uint32_t parent, std::string name, std::string type_name, Leaf leaf);
  /// Registers an enum's values; returns the index a Leaf refers to.
  std::int32_t add_enum(std::vector<Enumerator> values);

  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  std::uint32_t node_count() const { return static_cast<std::uint32_t>(nodes_.size()); }
  /// The child of `parent` called `name`, in constant time.
  std::optional<std::uint32_t> find(std::uint32_t parent, std::string_view name) const;
  const std::vector<Enumerator>& enumerators(std::int32_t index) const;
  /// How many enums add_enum registered.
  std::int32_t enum_count() const { return static_cast<std::int32_t>(enums_.size()); }
  /// "pos/x" for a node; "" for the root.
  std::string path(std::uint32_t index) const;

  const std::string& struct_name() const { return struct_name_; }
  std::uint32_t size() const { return size_; }
  std::uint32_t align() const { return align_; }

  /// The default schema: struct foo { int bar; int baz; };
  static Schema builtin_foo();

 private:
  static std::string key(std::uint32_t parent, std::string_view name);

  std::string struct_name_;
  std::uint32_t size_;
  std::uint32_t align_;
  std::vector<Node> nodes_;
  std::vector<std::vector<Enumerator>> enums_;
  std::unordered_map<std::string, std::uint32_t> index_;
};

/// The layout as a table: path, type, offset, size, mode; then the struct's size and alignment.
std::string layout_text(const Schema& schema);

/// The schema as bytes, so that fieldfs-header (which runs libclang) can hand a parsed header to
/// fieldfs, which then never maps libclang: struct name, size, alignment, the enums, then every
/// node after the root in index order (parents come first), strings length-prefixed.
std::string schema_to_wire(const Schema& schema);
/// The schema back from schema_to_wire's bytes; nullopt if they are anything else.
std::optional<Schema> schema_from_wire(std::string_view bytes);

}  // namespace fieldfs
