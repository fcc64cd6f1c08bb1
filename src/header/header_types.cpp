// SPDX-License-Identifier: MIT
#include "header/header_types.hpp"

#include "header/header_clang.hpp"

namespace fieldfs::detail {
namespace {

std::optional<Type> sized(bool is_signed_type, long long size) {
  switch (size) {
    case 1:
      return is_signed_type ? Type::i8 : Type::u8;
    case 2:
      return is_signed_type ? Type::i16 : Type::u16;
    case 4:
      return is_signed_type ? Type::i32 : Type::u32;
    case 8:
      return is_signed_type ? Type::i64 : Type::u64;
    default:
      return std::nullopt;
  }
}

std::optional<Type> integer_type(CXType canonical) {
  long long size = clang_Type_getSizeOf(canonical);
  switch (canonical.kind) {
    case CXType_Char_S:
    case CXType_SChar:
    case CXType_Short:
    case CXType_Int:
    case CXType_Long:
    case CXType_LongLong:
    case CXType_WChar:
      return sized(true, size);
    case CXType_Char_U:
    case CXType_UChar:
    case CXType_UShort:
    case CXType_UInt:
    case CXType_ULong:
    case CXType_ULongLong:
    case CXType_Char16:
    case CXType_Char32:
      return sized(false, size);
    default:
      return std::nullopt;
  }
}

}  // namespace

ScalarKind scalar_kind(CXType type) {
  CXType canonical = clang_getCanonicalType(type);
  ScalarKind kind;
  kind.size = static_cast<std::uint32_t>(clang_Type_getSizeOf(canonical));
  switch (canonical.kind) {
    case CXType_Bool:
      kind.type = Type::boolean;
      break;
    case CXType_Float:
      kind.type = Type::f32;
      break;
    case CXType_Double:
      kind.type = Type::f64;
      break;
    case CXType_Enum:
      kind.type = integer_type(clang_getCanonicalType(
          clang_getEnumDeclIntegerType(clang_getTypeDeclaration(canonical))));
      kind.is_enum = true;
      kind.canonical = canonical;
      break;
    case CXType_Atomic: {
      // _Atomic scalars have the plain type's size and alignment on x86-64; aggregates may not.
      ScalarKind inner = scalar_kind(clang_Type_getValueType(canonical));
      if (inner.size == kind.size) return inner;
      break;
    }
    default:
      kind.type = integer_type(canonical);
      break;
  }
  return kind;
}

std::string refusal(const std::string& name, CXType type) {
  std::string quoted = "'" + name + "'";
  switch (clang_getCanonicalType(type).kind) {
    case CXType_Pointer:
    case CXType_BlockPointer:
    case CXType_MemberPointer:
    case CXType_ObjCObjectPointer:
      return "pointer member " + quoted + " cannot be shared between processes";
    case CXType_IncompleteArray:
      return "flexible array member " + quoted;
    case CXType_LongDouble:
      return "long double member " + quoted + " is not supported";
    case CXType_Complex:
      return "_Complex member " + quoted + " is not supported";
    case CXType_Vector:
    case CXType_ExtVector:
      return "vector member " + quoted + " is not supported";
    default:
      return "member " + quoted + " of type '" + spelling(type) + "' is not supported";
  }
}

std::optional<Leaf> bit_field_leaf(std::uint64_t bit, unsigned width, std::uint32_t struct_size) {
  Leaf leaf;
  leaf.bit_width = static_cast<std::uint8_t>(width);
  std::uint64_t first = bit / 8;
  std::uint64_t end = (bit + width + 7) / 8;
  for (std::uint64_t unit : {1U, 2U, 4U, 8U}) {
    std::uint64_t start = first / unit * unit;
    if (start + unit >= end && start + unit <= struct_size) {
      first = start;
      end = start + unit;
      break;
    }
  }
  if (end - first > 8) return std::nullopt;
  leaf.offset = static_cast<std::uint32_t>(first);
  leaf.size = static_cast<std::uint32_t>(end - first);
  leaf.bit_offset = static_cast<std::uint8_t>(bit - first * 8);
  return leaf;
}

std::vector<Enumerator> enumerators(CXCursor enum_decl) {
  bool is_unsigned =
      !is_signed(scalar_kind(clang_getCursorType(enum_decl)).type.value_or(Type::i32));
  std::vector<Enumerator> out;
  for (CXCursor c : children(clang_getCursorDefinition(enum_decl))) {
    if (clang_getCursorKind(c) != CXCursor_EnumConstantDecl) continue;
    auto value = is_unsigned ? static_cast<std::int64_t>(clang_getEnumConstantDeclUnsignedValue(c))
                             : static_cast<std::int64_t>(clang_getEnumConstantDeclValue(c));
    out.push_back(Enumerator{take(clang_getCursorSpelling(c)), value});
  }
  return out;
}

}  // namespace fieldfs::detail
