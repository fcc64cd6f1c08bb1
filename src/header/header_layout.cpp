// SPDX-License-Identifier: MIT
//
// Every offset and size here comes from clang's record layout, so the Schema agrees with what the
// compiler gives programs that map the segment (padding, _Alignas, packed, bit-field allocation).
// The one exception is natural_offsets(), for plain records only, checked against clang. Offsets
// are carried in bits, absolute from the start of the outer struct, because bit-fields need that
// precision.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "header/header_clang.hpp"
#include "header/header_types.hpp"

namespace fieldfs::detail {
namespace {

constexpr std::uint32_t kMaxStructBytes = 1U << 20;  // SPEC §7
constexpr std::uint32_t kMaxFields = 100000;         // SPEC §7

/// One member to place: the directory it goes in and where its bits start.
struct Place {
  std::uint32_t parent = 0;
  std::string name;
  CXType type{};
  std::uint64_t bit = 0;
  bool is_const = false;
  CXCursor decl{};  ///< the member declaration, for messages
};

std::string member_name(CXCursor decl) { return take(clang_getCursorSpelling(decl)); }

bool const_type(CXType t) {
  return clang_isConstQualifiedType(t) != 0 ||
         clang_isConstQualifiedType(clang_getCanonicalType(t)) != 0;
}

/// The element type of an array, keeping typedef names ("uint32_t", not "unsigned int").
CXType element_type(CXType array) {
  CXType e = clang_getArrayElementType(array);
  if (e.kind == CXType_Invalid) e = clang_getArrayElementType(clang_getCanonicalType(array));
  return e;
}

bool is_attribute(CXCursor c) {
  auto kind = clang_getCursorKind(c);
  return kind >= CXCursor_FirstAttr && kind <= CXCursor_LastAttr;
}

/// Natural alignment, for one member: where it goes after `end` (bytes), or -1 if the rule may
/// not hold for it (a bit-field, an attribute, an anonymous record, an incomplete type).
long long natural_place(CXCursor c, long long end, long long& size, long long& align) {
  if (clang_Cursor_isBitField(c) != 0) return -1;
  for (CXCursor a : children(c)) {
    if (is_attribute(a)) return -1;
  }
  CXType t = clang_getCursorType(c);
  size = clang_Type_getSizeOf(t);
  align = clang_Type_getAlignOf(t);
  if (size < 0 || align <= 0) return -1;
  return (end + align - 1) / align * align;
}

/// The fields' offsets in bits (-1 for members that are not fields) by the natural-alignment
/// rule, or nullopt. clang 14 re-validates every field of the record on each
/// clang_Cursor_getOffsetOfField call, so asking it field by field is O(n^2): 96 s for 100,000
/// fields. The rule is exact for a struct whose members are plain fields without attributes and
/// whose alignment is its largest member's (no #pragma pack, no aligned or packed attribute);
/// the size and the last field's offset are checked against clang before the offsets are used.
std::optional<std::vector<long long>> natural_offsets(CXType type, CXCursor def,
                                                      const std::vector<CXCursor>& members) {
  if (clang_getCursorKind(def) != CXCursor_StructDecl) return std::nullopt;
  std::vector<long long> offsets(members.size(), -1);
  long long end = 0;
  long long max_align = 1;
  std::size_t last = members.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    CXCursor c = members[i];
    if (is_attribute(c) || clang_Cursor_isAnonymousRecordDecl(c) != 0) return std::nullopt;
    if (clang_getCursorKind(c) != CXCursor_FieldDecl) continue;
    long long size = 0;
    long long align = 1;
    long long at = natural_place(c, end, size, align);
    if (at < 0) return std::nullopt;
    offsets[i] = at * 8;
    end = at + size;
    max_align = std::max(max_align, align);
    last = i;
  }
  if (last == members.size() || clang_Type_getAlignOf(type) != max_align ||
      clang_Type_getSizeOf(type) != (end + max_align - 1) / max_align * max_align ||
      clang_Cursor_getOffsetOfField(members[last]) != offsets[last]) {
    return std::nullopt;
  }
  return offsets;
}

class Builder {
 public:
  explicit Builder(Schema& schema) : schema_(schema) {}

  std::string record(std::uint32_t dir, CXType type, std::uint64_t bit, bool is_const);

 private:
  std::string field(std::uint32_t dir, CXCursor decl, std::uint64_t base, bool is_const,
                    long long known_offset);
  std::string anonymous(std::uint32_t dir, CXType outer, CXCursor decl, std::uint64_t base,
                        bool is_const);
  std::string member(const Place& p);
  std::string array(const Place& p, CXType canonical);
  std::string scalar(const Place& p, unsigned bit_width);
  std::optional<std::string> count(const Place& p, bool is_dir);
  std::int32_t enum_index(CXType canonical);

  Schema& schema_;
  std::map<std::string, std::int32_t> enums_;
  std::uint32_t leaves_ = 0;
  std::uint32_t dirs_ = 0;
};

std::string Builder::record(std::uint32_t dir, CXType type, std::uint64_t bit, bool is_const) {
  CXCursor def = clang_getCursorDefinition(clang_getTypeDeclaration(type));
  auto members = children(def);
  auto offsets = natural_offsets(type, def, members);
  for (std::size_t i = 0; i < members.size(); ++i) {
    CXCursor c = members[i];
    std::string error;
    auto kind = clang_getCursorKind(c);
    if (kind == CXCursor_FieldDecl) {
      error = field(dir, c, bit, is_const, offsets ? (*offsets)[i] : -1);
    } else if ((kind == CXCursor_StructDecl || kind == CXCursor_UnionDecl) &&
               clang_Cursor_isAnonymousRecordDecl(c) != 0) {
      error = anonymous(dir, type, c, bit, is_const);
    }
    if (!error.empty()) return error;
  }
  return {};
}

std::string Builder::field(std::uint32_t dir, CXCursor decl, std::uint64_t base, bool is_const,
                           long long known_offset) {
  std::string name = member_name(decl);
  if (name.empty()) return {};  // an unnamed bit-field is padding, not a field
  long long offset = known_offset >= 0 ? known_offset : clang_Cursor_getOffsetOfField(decl);
  if (offset < 0) return located(decl, "cannot lay out member '" + name + "'");
  CXType type = clang_getCursorType(decl);
  Place p{dir, name, type, base + static_cast<std::uint64_t>(offset), is_const || const_type(type),
          decl};
  if (clang_Cursor_isBitField(decl) != 0) {
    return scalar(p, static_cast<unsigned>(clang_getFieldDeclBitWidth(decl)));
  }
  return member(p);
}

/// A named field reachable from `record` (through nested anonymous members) and its offset
/// inside `record`.
std::optional<std::pair<std::string, std::uint64_t>> first_named(CXCursor record) {
  for (CXCursor c : children(record)) {
    auto kind = clang_getCursorKind(c);
    std::string name;
    if (kind == CXCursor_FieldDecl) {
      name = member_name(c);
    } else if ((kind == CXCursor_StructDecl || kind == CXCursor_UnionDecl) &&
               clang_Cursor_isAnonymousRecordDecl(c) != 0) {
      if (auto inner = first_named(c)) name = inner->first;
    }
    if (name.empty()) continue;
    long long at = clang_Type_getOffsetOf(clang_getCursorType(record), name.c_str());
    if (at >= 0) return std::pair{name, static_cast<std::uint64_t>(at)};
  }
  return std::nullopt;
}

// libclang shows an anonymous struct/union member only as its record, without the implicit
// field that places it; clang_Type_getOffsetOf on the outer type resolves a name through it, and
// subtracting that name's offset inside the anonymous record gives where the record starts.
std::string Builder::anonymous(std::uint32_t dir, CXType outer, CXCursor decl, std::uint64_t base,
                               bool is_const) {
  auto named = first_named(decl);
  if (!named) return {};  // only unnamed bit-fields: nothing to show
  long long in_outer = clang_Type_getOffsetOf(outer, named->first.c_str());
  if (in_outer < 0) return located(decl, "cannot lay out anonymous member");
  std::uint64_t start = base + static_cast<std::uint64_t>(in_outer) - named->second;
  CXType type = clang_getCursorType(decl);
  return record(dir, type, start, is_const || const_type(type));
}

std::optional<std::string> Builder::count(const Place& p, bool is_dir) {
  if (++(is_dir ? dirs_ : leaves_) <= kMaxFields) return std::nullopt;
  return located(p.decl, "more than " + std::to_string(kMaxFields) + " fields");
}

std::string Builder::member(const Place& p) {
  CXType canonical = clang_getCanonicalType(p.type);
  if (canonical.kind == CXType_Record) {
    if (auto error = count(p, true)) return *error;
    return record(schema_.add_dir(p.parent, p.name, spelling(p.type)), canonical, p.bit,
                  p.is_const);
  }
  if (canonical.kind == CXType_ConstantArray) return array(p, canonical);
  return scalar(p, 0);
}

std::string Builder::array(const Place& p, CXType canonical) {
  long long n = clang_getArraySize(canonical);
  if (n <= 0) return located(p.decl, "zero-length array member '" + member_name(p.decl) + "'");
  CXType element = element_type(p.type);
  CXTypeKind kind = clang_getCanonicalType(element).kind;
  if (kind == CXType_Char_S || kind == CXType_Char_U) {
    if (auto error = count(p, false)) return *error;
    Leaf leaf{Type::chars, static_cast<std::uint32_t>(p.bit / 8),
              static_cast<std::uint32_t>(clang_Type_getSizeOf(canonical))};
    leaf.is_const = p.is_const || const_type(element);
    schema_.add_leaf(p.parent, p.name, spelling(p.type), leaf);
    return {};
  }
  if (auto error = count(p, true)) return *error;
  auto dir = schema_.add_dir(p.parent, p.name, spelling(p.type));
  auto step = static_cast<std::uint64_t>(clang_Type_getSizeOf(element)) * 8;
  for (long long i = 0; i < n; ++i) {
    Place e{dir,
            std::to_string(i),
            element,
            p.bit + static_cast<std::uint64_t>(i) * step,
            p.is_const || const_type(element),
            p.decl};
    if (auto error = member(e); !error.empty()) return error;
  }
  return {};
}

std::string Builder::scalar(const Place& p, unsigned bit_width) {
  auto kind = scalar_kind(p.type);
  if (!kind.type) return located(p.decl, refusal(member_name(p.decl), p.type));
  std::optional<Leaf> leaf = Leaf{};
  if (bit_width != 0) {
    leaf = bit_field_leaf(p.bit, bit_width, schema_.size());
    if (!leaf) {
      return located(p.decl, "bit-field '" + member_name(p.decl) + "' spans more than 8 bytes");
    }
  } else {
    leaf->offset = static_cast<std::uint32_t>(p.bit / 8);
    leaf->size = kind.size;
  }
  leaf->type = *kind.type;
  leaf->is_const = p.is_const;
  if (kind.is_enum) leaf->enum_index = enum_index(kind.canonical);
  if (auto error = count(p, false)) return *error;
  schema_.add_leaf(p.parent, p.name, spelling(p.type), *leaf);
  return {};
}

std::int32_t Builder::enum_index(CXType canonical) {
  CXCursor decl = clang_getTypeDeclaration(canonical);
  std::string usr = take(clang_getCursorUSR(decl));
  if (auto it = enums_.find(usr); it != enums_.end()) return it->second;
  auto index = schema_.add_enum(enumerators(decl));
  enums_.emplace(std::move(usr), index);
  return index;
}

}  // namespace

HeaderSchemaResult schema_from_record(CXCursor record, const std::string& name) {
  CXType type = clang_getCursorType(record);
  long long size = clang_Type_getSizeOf(type);
  long long align = clang_Type_getAlignOf(type);
  if (size < 0 || align <= 0) {
    return {std::nullopt, located(record, "cannot lay out struct " + name)};
  }
  if (size == 0) {
    return {std::nullopt,
            located(record, "struct " + name + " has no fields: there is nothing to share")};
  }
  if (size > kMaxStructBytes) {
    return {std::nullopt, located(record, "struct " + name + " is " + std::to_string(size) +
                                              " bytes, more than the limit of " +
                                              std::to_string(kMaxStructBytes))};
  }
  Schema schema(name, static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(align));
  Builder builder(schema);
  std::string error = builder.record(0, type, 0, false);
  if (!error.empty()) return {std::nullopt, error};
  return {std::move(schema), {}};
}

}  // namespace fieldfs::detail
