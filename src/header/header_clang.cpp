// SPDX-License-Identifier: MIT
#include "header/header_clang.hpp"

#include <new>
#include <string_view>

namespace fieldfs::detail {

std::string take(CXString s) {
  const char* text = clang_getCString(s);
  std::string out = text != nullptr ? text : "";
  clang_disposeString(s);
  return out;
}

namespace {

struct Collected {
  std::vector<CXCursor> cursors;
  bool out_of_memory = false;
};

// A C callback: an exception must not unwind through libclang, so it is turned into a flag.
CXChildVisitResult collect(CXCursor cursor, CXCursor /*parent*/, CXClientData data) noexcept {
  auto* out = static_cast<Collected*>(data);
  try {
    out->cursors.push_back(cursor);
    return CXChildVisit_Continue;
  } catch (...) {
    out->out_of_memory = true;
    return CXChildVisit_Break;
  }
}

}  // namespace

std::vector<CXCursor> children(CXCursor parent) {
  Collected out;
  clang_visitChildren(parent, collect, &out);
  if (out.out_of_memory) throw std::bad_alloc();
  return std::move(out.cursors);
}

std::string located(CXSourceLocation where, const std::string& why) {
  CXFile file = nullptr;
  unsigned line = 0;
  unsigned column = 0;
  clang_getFileLocation(where, &file, &line, &column, nullptr);
  if (file == nullptr) return why;
  return take(clang_getFileName(file)) + ":" + std::to_string(line) + ":" + std::to_string(column) +
         ": " + why;
}

std::string located(CXCursor where, const std::string& why) {
  return located(clang_getCursorLocation(where), why);
}

std::string spelling(CXType type) {
  std::string s = take(clang_getTypeSpelling(type));
  // clang names anonymous records and enums after their location, which means nothing in a
  // layout; keep just the keyword (and any qualifiers and array bounds around it).
  for (std::string_view marker : {"(unnamed", "(anonymous"}) {
    for (auto at = s.find(marker); at != std::string::npos; at = s.find(marker)) {
      auto end = s.find(')', at);
      auto begin = s.rfind(' ', at);
      begin = begin == std::string::npos ? at : begin;
      s.erase(begin, end == std::string::npos ? std::string::npos : end + 1 - begin);
    }
  }
  return s;
}

}  // namespace fieldfs::detail
