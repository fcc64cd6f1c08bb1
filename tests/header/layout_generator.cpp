// SPDX-License-Identifier: MIT
#include "layout_generator.hpp"

#include <string_view>

namespace fieldfs::layout {
namespace {

constexpr std::size_t kMaxLeaves = 160;  // keeps one struct, and gcc's work, small

struct Scalar {
  const char* spelling;
  Type type;
  int size;
};
constexpr Scalar kScalars[] = {{"char", Type::i8, 1},
                               {"signed char", Type::i8, 1},
                               {"unsigned char", Type::u8, 1},
                               {"short", Type::i16, 2},
                               {"unsigned short", Type::u16, 2},
                               {"int", Type::i32, 4},
                               {"unsigned", Type::u32, 4},
                               {"long", Type::i64, 8},
                               {"unsigned long", Type::u64, 8},
                               {"long long", Type::i64, 8},
                               {"unsigned long long", Type::u64, 8},
                               {"int8_t", Type::i8, 1},
                               {"uint8_t", Type::u8, 1},
                               {"int16_t", Type::i16, 2},
                               {"uint16_t", Type::u16, 2},
                               {"int32_t", Type::i32, 4},
                               {"uint32_t", Type::u32, 4},
                               {"int64_t", Type::i64, 8},
                               {"uint64_t", Type::u64, 8},
                               {"bool", Type::boolean, 1},
                               {"_Bool", Type::boolean, 1},
                               {"float", Type::f32, 4},
                               {"double", Type::f64, 8}};
constexpr int kLastBitFieldScalar = 20;  // floats cannot be bit-fields
constexpr int kLastScalar = 22;

std::string shape_text(const std::vector<int>& shape) {
  std::string s;
  for (int n : shape) s += "[" + std::to_string(n) + "]";
  return s;
}

}  // namespace

std::string access(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) {
    bool index = p[0] >= '0' && p[0] <= '9';
    s += index ? "[" + p + "]" : (s.empty() ? "" : ".") + p;
  }
  return s;
}

std::string path_of(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

std::vector<int> Generator::dims(int count) {
  std::vector<int> out;
  for (int i = 0; i < count; ++i) out.push_back(pick(1, 4));
  return out;
}

void Generator::add(Record& r, const std::string& decl, const std::string& name,
                    const std::vector<int>& shape, const std::vector<Want>& element) {
  r.body += "  " + decl + ";\n";
  std::vector<int> index(shape.size(), 0);
  for (bool more = true; more;) {
    for (const Want& e : element) {
      Want w = e;
      w.parts.insert(w.parts.begin(), name);
      for (std::size_t i = 0; i < index.size(); ++i) {
        w.parts.insert(w.parts.begin() + 1 + static_cast<long>(i), std::to_string(index[i]));
      }
      r.leaves.push_back(std::move(w));
    }
    more = false;
    for (std::size_t i = index.size(); i-- > 0 && !more;) {
      more = ++index[i] < shape[i];
      if (!more) index[i] = 0;
    }
  }
}

void Generator::member(Record& r, int depth, bool packed) {
  int kind = pick(0, 99);
  std::string name = "m" + std::to_string(names_++);
  if (kind >= 75 && depth < 3) {
    if (kind < 90) return nested(r, name, depth, dims(kind < 84 ? 0 : pick(1, 2)));
    Record inner = record(depth + 1, chance(20), chance(40), static_cast<std::size_t>(pick(1, 4)));
    r.body += "  " + inner.body + ";\n";  // anonymous: its members belong to `r`
    r.leaves.insert(r.leaves.end(), inner.leaves.begin(), inner.leaves.end());
    return;
  }
  if (kind >= 60) return bit_fields(r, packed);
  if (kind >= 50) {
    int k = pick(0, 2);
    auto shape = dims(pick(0, 1));
    return add(r, "enum " + tag_ + "_e" + std::to_string(k) + " " + name + shape_text(shape), name,
               shape, {Want{{}, std::nullopt, 0, k}});
  }
  if (kind >= 40) {
    auto shape = dims(pick(0, 1));
    int n = pick(1, 20);
    return add(r, "char " + name + shape_text(shape) + "[" + std::to_string(n) + "]", name, shape,
               {Want{{}, Type::chars}});
  }
  scalar(r, name, kind);
}

void Generator::scalar(Record& r, const std::string& name, int kind) {
  const Scalar& s = kScalars[pick(0, kLastScalar)];
  auto shape = dims(kind < 28 ? 0 : pick(1, 3));
  std::string align;
  if (chance(15)) align = "_Alignas(" + std::to_string(s.size << pick(0, 5 - s.size / 2)) + ") ";
  std::string decl = align + s.spelling + " " + name + shape_text(shape);
  bool is_string = !shape.empty() && std::string_view(s.spelling) == "char";
  if (is_string) shape.pop_back();  // char x[..][N]: the last dimension is one text file
  add(r, decl, name, shape, {Want{{}, is_string ? Type::chars : s.type}});
}

void Generator::nested(Record& r, const std::string& name, int depth, std::vector<int> shape) {
  bool is_union = chance(30);
  Record inner = record(depth + 1, chance(20), is_union, static_cast<std::size_t>(pick(1, 5)));
  std::size_t copies = 1;
  for (int n : shape) copies *= static_cast<std::size_t>(n);
  if (inner.leaves.size() * copies > kMaxLeaves / 2) shape.clear();
  std::string type = inner.body;
  if (chance(50)) {
    std::string tag = tag_ + "_r" + std::to_string(names_++);
    std::string keyword = is_union ? "union" : "struct";
    defs_ += type.insert(type.find('{'), tag + " ") + ";\n";
    type = keyword + " " + tag;
  }
  add(r, type + " " + name + shape_text(shape), name, shape, inner.leaves);
}

void Generator::bit_fields(Record& r, bool packed) {
  for (int i = 0, n = pick(1, 4); i < n; ++i) {
    std::string name = "m" + std::to_string(names_++);
    if (i > 0 && chance(15)) {
      const Scalar& s = kScalars[pick(0, 18)];
      r.body +=
          "  " + std::string(s.spelling) + " : " + std::to_string(pick(0, s.size * 8)) + ";\n";
      continue;
    }
    if (chance(15)) {
      int width = pick(2, 8);
      add(r, "enum " + tag_ + "_e0 " + name + " : " + std::to_string(width), name, {},
          {Want{{}, std::nullopt, static_cast<unsigned>(width), 0}});
      continue;
    }
    const Scalar& s = kScalars[pick(0, kLastBitFieldScalar)];
    int bits = s.type == Type::boolean ? 1 : s.size * 8;
    // A 64-bit field that starts mid-byte in a packed struct would span 9 bytes, which the
    // front end refuses (HeaderSchemaTest covers that); keep the proof to layouts it accepts.
    if (packed && bits == 64) bits = 56;
    int width = pick(1, bits);
    add(r, std::string(s.spelling) + " " + name + " : " + std::to_string(width), name, {},
        {Want{{}, s.type, static_cast<unsigned>(width)}});
  }
}

Generator::Record Generator::record(int depth, bool packed, bool is_union, std::size_t members) {
  Record body;
  for (std::size_t i = 0; i < members && body.leaves.size() < kMaxLeaves; ++i) {
    member(body, depth, packed);
  }
  std::string head = is_union ? "union" : "struct";
  if (packed) head += " __attribute__((packed))";
  return {head + " {\n" + body.body + "}", std::move(body.leaves)};
}

std::string Generator::enum_definition(int k) {
  std::string name = tag_ + "_e" + std::to_string(k);
  int shape = k == 0 ? 0 : pick(1, 3);  // e0 stays small and unsigned for bit-fields
  std::vector<Enumerator> values;
  std::string text =
      std::string("enum ") + (shape == 3 ? "__attribute__((packed)) " : "") + name + " {";
  for (int i = 0, n = pick(1, 4); i < n; ++i) {
    std::int64_t v = shape == 0   ? i
                     : shape == 1 ? pick(-1000, 1000)
                     : shape == 2 ? (std::int64_t{1} << 33) + pick(0, 9)
                                  : pick(0, 200);
    values.push_back({name + "_" + std::to_string(i), v});
    text += " " + values.back().name + " = " + std::to_string(v) + ",";
  }
  enums_.push_back(std::move(values));
  return text + " };\n";
}

GeneratedHeader Generator::make(int id) {
  tag_ = "t" + std::to_string(id);
  defs_ = "#include <stdint.h>\n#include <stdbool.h>\n";
  names_ = 0;
  enums_.clear();
  for (int k = 0; k < 3; ++k) defs_ += enum_definition(k);
  Record root = record(0, chance(15), false, static_cast<std::size_t>(pick(1, 12)));
  GeneratedHeader h;
  if (id % 3 == 2) {
    h.text = defs_ + "typedef " + root.body + " " + tag_ + ";\n";
    h.c_type = tag_;
  } else {
    h.text = defs_ + root.body.insert(root.body.find('{'), tag_ + " ") + ";\n";
    h.c_type = "struct " + tag_;
  }
  h.struct_arg = id % 3 == 0 ? "" : tag_;
  h.leaves = std::move(root.leaves);
  h.enums = std::move(enums_);
  return h;
}

}  // namespace fieldfs::layout
