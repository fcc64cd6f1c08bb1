// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fieldfs/schema.hpp"

namespace fieldfs::layout {

/// One leaf a generated struct declares.
struct Want {
  std::vector<std::string> parts;  ///< member names and array indices
  std::optional<Type> type;        ///< empty for enums: the compiler picks their type
  unsigned width = 0;              ///< bit-fields
  int enum_id = -1;                ///< index into GeneratedHeader::enums
};

/// A header with one random struct (plus the records and enums it uses) and what it declares.
struct GeneratedHeader {
  std::string text;
  std::string c_type;      ///< "struct t7" or "t7"
  std::string struct_arg;  ///< what struct= gets ("" = the last one)
  std::vector<Want> leaves;
  std::vector<std::vector<Enumerator>> enums;
};

/// "a/0/b" for a leaf's parts, as Schema::path spells it.
std::string path_of(const std::vector<std::string>& parts);
/// "a[0].b" for a leaf's parts, as C designates the member.
std::string access(const std::vector<std::string>& parts);

/// Random structs mixing every kind fieldfs supports; the same seed gives the same structs.
class Generator {
 public:
  GeneratedHeader make(int id);

 private:
  struct Record {
    std::string body;
    std::vector<Want> leaves;
  };

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(0, 99) < percent; }
  std::vector<int> dims(int count);
  Record record(int depth, bool packed, bool is_union, std::size_t members);
  void member(Record& r, int depth, bool packed);
  void scalar(Record& r, const std::string& name, int kind);
  void nested(Record& r, const std::string& name, int depth, std::vector<int> shape);
  void bit_fields(Record& r, bool packed);
  std::string enum_definition(int k);
  static void add(Record& r, const std::string& decl, const std::string& name,
                  const std::vector<int>& shape, const std::vector<Want>& element);

  std::mt19937 rng_{20240611};
  std::string tag_;
  std::string defs_;
  int names_ = 0;
  std::vector<std::vector<Enumerator>> enums_;
};

}  // namespace fieldfs::layout
