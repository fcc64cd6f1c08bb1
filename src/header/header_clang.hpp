// SPDX-License-Identifier: MIT
#pragma once

#include <clang-c/Index.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "header/header_schema.hpp"

namespace fieldfs::detail {

struct IndexDeleter {
  void operator()(void* index) const { clang_disposeIndex(index); }
};
/// Owns a CXIndex.
using IndexPtr = std::unique_ptr<void, IndexDeleter>;

struct UnitDeleter {
  void operator()(CXTranslationUnit unit) const { clang_disposeTranslationUnit(unit); }
};
/// Owns a CXTranslationUnit.
using UnitPtr = std::unique_ptr<std::remove_pointer_t<CXTranslationUnit>, UnitDeleter>;

/// Copies a CXString out and disposes of it, so no CXString outlives one expression.
std::string take(CXString s);

/// The direct children of `parent`. Throws std::bad_alloc only from C++ frames, never through
/// libclang's.
std::vector<CXCursor> children(CXCursor parent);

/// "FILE:LINE:COL: why", at the place a compiler diagnostic would point (macros expanded).
std::string located(CXSourceLocation where, const std::string& why);
std::string located(CXCursor where, const std::string& why);

/// The type as the header spells it, with clang's "(unnamed at FILE:L:C)" dropped:
/// "struct pos", "uint32_t", "char[16]", "union".
std::string spelling(CXType type);

/// Lays out `record` (a struct definition) as the Schema called `name`.
HeaderSchemaResult schema_from_record(CXCursor record, const std::string& name);

}  // namespace fieldfs::detail
