// SPDX-License-Identifier: MIT
#include "fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/codec.hpp"

namespace fieldfs::fuzz {

namespace {

Leaf scalar(Type type, std::uint32_t offset, std::uint32_t size) {
  Leaf leaf;
  leaf.type = type;
  leaf.offset = offset;
  leaf.size = size;
  return leaf;
}

Leaf bits(Type type, std::uint32_t offset, std::uint32_t unit, unsigned at, unsigned width) {
  Leaf leaf = scalar(type, offset, unit);
  leaf.bit_offset = static_cast<std::uint8_t>(at);
  leaf.bit_width = static_cast<std::uint8_t>(width);
  return leaf;
}

Leaf with_enum(Leaf leaf, std::int32_t index) {
  leaf.enum_index = index;
  return leaf;
}

Leaf as_const(Leaf leaf) {
  leaf.is_const = true;
  return leaf;
}

/// struct pos { int32_t x, y; } at `offset` under `parent`.
void add_pos(Schema& s, std::uint32_t parent, std::string name, std::uint32_t offset) {
  auto dir = s.add_dir(parent, std::move(name), "struct pos");
  s.add_leaf(dir, "x", "int32_t", scalar(Type::i32, offset, 4));
  s.add_leaf(dir, "y", "int32_t", scalar(Type::i32, offset + 4, 4));
}

/// The layout gcc gives (offsets in comments are bytes; 6-7, 36-39, 70-71, 98-99, 136 and
/// 140-143 are padding):
///   struct fz {
///     int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32; uint32_t u32;
///     int64_t i64; uint64_t u64; float f32; double f64; bool flag;
///     char c1[1]; char c2[2]; char name[8];                              // 49, 50, 52
///     enum color color;                                                  // 60
///     int sb3 : 3; unsigned ub5 : 5; int sb1 : 1; unsigned ub23 : 23;    // unit 64..67
///     unsigned char ub2 : 2; enum level el : 3; bool fb : 1;             // unit 68
///     enum mode mode;  /* uint8_t-sized */                               // 69
///     uint64_t ub40 : 40; int64_t sb24 : 24;                             // unit 72..79
///     const int32_t version;                                             // 80
///     struct pos pos;  int16_t arr[3];  struct pos pts[2];               // 84, 92, 100
///     char msg[16];  const char tag[4];                                  // 116, 132
///     unsigned u16x : 16 (a 3-byte unit at 137, as a packed struct has); // 137..139
///     const double cd;  struct {} empty;                                 // 144, 152
///   };  // sizeof 152, alignof 8
Schema build() {
  Schema s("fz", 152, 8);
  auto color = s.add_enum(
      {{"RED", 0}, {"GREEN", 1}, {"GREENISH", 2}, {"BLUE", -7}, {"BIG", 100000}, {"_private", 42}});
  auto level =
      s.add_enum({{"LOW", 0}, {"MID", 1}, {"ALIAS", 1}, {"HIGH", 3}, {"NEG", -4}, {"HUGE", 9}});
  auto mode = s.add_enum({{"OFF", 0}, {"ON", 1}, {"AUTO", 255}});
  s.add_leaf(0, "i8", "int8_t", scalar(Type::i8, 0, 1));
  s.add_leaf(0, "u8", "uint8_t", scalar(Type::u8, 1, 1));
  s.add_leaf(0, "i16", "int16_t", scalar(Type::i16, 2, 2));
  s.add_leaf(0, "u16", "uint16_t", scalar(Type::u16, 4, 2));
  s.add_leaf(0, "i32", "int32_t", scalar(Type::i32, 8, 4));
  s.add_leaf(0, "u32", "uint32_t", scalar(Type::u32, 12, 4));
  s.add_leaf(0, "i64", "int64_t", scalar(Type::i64, 16, 8));
  s.add_leaf(0, "u64", "uint64_t", scalar(Type::u64, 24, 8));
  s.add_leaf(0, "f32", "float", scalar(Type::f32, 32, 4));
  s.add_leaf(0, "f64", "double", scalar(Type::f64, 40, 8));
  s.add_leaf(0, "flag", "bool", scalar(Type::boolean, 48, 1));
  s.add_leaf(0, "c1", "char[1]", scalar(Type::chars, 49, 1));
  s.add_leaf(0, "c2", "char[2]", scalar(Type::chars, 50, 2));
  s.add_leaf(0, "name", "char[8]", scalar(Type::chars, 52, 8));
  s.add_leaf(0, "color", "enum color", with_enum(scalar(Type::i32, 60, 4), color));
  s.add_leaf(0, "sb3", "int", bits(Type::i32, 64, 4, 0, 3));
  s.add_leaf(0, "ub5", "unsigned int", bits(Type::u32, 64, 4, 3, 5));
  s.add_leaf(0, "sb1", "int", bits(Type::i32, 64, 4, 8, 1));
  s.add_leaf(0, "ub23", "unsigned int", bits(Type::u32, 64, 4, 9, 23));
  s.add_leaf(0, "ub2", "unsigned char", bits(Type::u8, 68, 1, 0, 2));
  s.add_leaf(0, "el", "enum level", with_enum(bits(Type::i32, 68, 1, 2, 3), level));
  s.add_leaf(0, "fb", "bool", bits(Type::boolean, 68, 1, 5, 1));
  s.add_leaf(0, "mode", "enum mode", with_enum(scalar(Type::u8, 69, 1), mode));
  s.add_leaf(0, "ub40", "uint64_t", bits(Type::u64, 72, 8, 0, 40));
  s.add_leaf(0, "sb24", "int64_t", bits(Type::i64, 72, 8, 40, 24));
  s.add_leaf(0, "version", "const int32_t", as_const(scalar(Type::i32, 80, 4)));
  add_pos(s, 0, "pos", 84);
  auto arr = s.add_dir(0, "arr", "int16_t[3]");
  for (std::uint32_t i = 0; i < 3; ++i) {
    s.add_leaf(arr, std::to_string(i), "int16_t", scalar(Type::i16, 92 + 2 * i, 2));
  }
  auto pts = s.add_dir(0, "pts", "struct pos[2]");
  add_pos(s, pts, "0", 100);
  add_pos(s, pts, "1", 108);
  s.add_leaf(0, "msg", "char[16]", scalar(Type::chars, 116, 16));
  s.add_leaf(0, "tag", "const char[4]", as_const(scalar(Type::chars, 132, 4)));
  s.add_leaf(0, "u16x", "unsigned int", bits(Type::u32, 137, 3, 4, 16));
  s.add_leaf(0, "cd", "const double", as_const(scalar(Type::f64, 144, 8)));
  s.add_dir(0, "empty", "struct empty");
  return s;
}

bool is_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

void broken(const char* file, int line, const char* what, std::string_view detail) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s (%.*s)\n", file, line, what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string escaped(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

const Schema& schema() {
  static const Schema s = build();
  return s;
}

const std::vector<const Leaf*>& leaves() {
  static const std::vector<const Leaf*> all = [] {
    std::vector<const Leaf*> out;
    for (std::uint32_t i = 0; i < schema().node_count(); ++i) {
      if (!schema().node(i).is_dir) out.push_back(&schema().node(i).leaf);
    }
    return out;
  }();
  return all;
}

const std::vector<unsigned char>& writable_bits() {
  static const std::vector<unsigned char> mask = [] {
    std::vector<unsigned char> out(schema().size(), 0);
    for (const Leaf* leaf : leaves()) {
      if (leaf->is_const) continue;
      std::uint64_t m = leaf->bit_width != 0 ? bit_mask(*leaf) : ~std::uint64_t{0};
      for (std::uint32_t i = 0; i < leaf->size; ++i) {
        out[leaf->offset + i] |=
            leaf->bit_width != 0 ? static_cast<unsigned char>(m >> (8 * i)) : 0xff;
      }
    }
    return out;
  }();
  return mask;
}

Segment& segment() {
  static Segment seg = [] {
    std::string name = "fieldfs-fuzz-" + std::to_string(::getpid());
    SegmentOptions o;
    o.size = schema().size();
    auto opened = Segment::open(Source{Source::Kind::shm, name}, o);
    ::shm_unlink(("/" + name).c_str());  // the mapping and the fd outlive the name
    if (!opened) broken(__FILE__, __LINE__, "Segment::open", name);
    return std::move(*opened);
  }();
  return seg;
}

std::string snapshot() {
  return std::string(reinterpret_cast<const char*>(segment().data()), schema().size());
}

void fill(std::string_view bytes) {
  auto* base = reinterpret_cast<char*>(segment().data());
  for (std::uint32_t i = 0; i < schema().size(); ++i) {
    base[i] = bytes.empty() ? '\0' : bytes[i % bytes.size()];
  }
}

void canonicalize() {
  for (const Leaf* leaf : leaves()) {
    auto bytes = segment().load(*leaf);
    FUZZ_CHECK(bytes, "load");
    std::string value = std::move(*bytes);
    if (leaf->type == Type::chars) {
      value = canonical(*leaf, value);
      if (!is_utf8(value.substr(0, value.find('\0')))) {
        for (char& c : value) c = static_cast<unsigned char>(c) >= 0x80 ? '?' : c;
      }
    }
    auto parsed = parse_value(schema(), *leaf, format_value(schema(), *leaf, value));
    FUZZ_CHECK(parsed && *parsed, escaped(value));
    FUZZ_CHECK(segment().store(*leaf, **parsed), "store");
  }
}

std::string canonical(const Leaf& leaf, std::string_view bytes) {
  if (leaf.type != Type::chars) return std::string(bytes);
  std::string out(bytes.size(), '\0');
  // A string that fills all N bytes (no NUL) reads as N bytes, but writes take at most N-1.
  auto text = bytes.substr(0, std::min(bytes.find('\0'), bytes.empty() ? 0 : bytes.size() - 1));
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

void check_value(const Schema& schema, const Leaf& leaf, std::string_view bytes) {
  FUZZ_CHECK(bytes.size() == leaf.size, escaped(bytes));
  if (leaf.bit_width != 0) {
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data(), bytes.size());
    FUZZ_CHECK((v & ~bit_mask(leaf)) == 0, escaped(bytes));
  }
  std::string text = format_value(schema, leaf, bytes);
  FUZZ_CHECK(text.ends_with('\n'), escaped(text));
  FUZZ_CHECK(leaf.type == Type::chars || text.find('\n') == text.size() - 1, escaped(text));
  auto again = parse_value(schema, leaf, text);
  FUZZ_CHECK(again && *again, "format_value's text does not parse: " + escaped(text));
  FUZZ_CHECK(**again == canonical(leaf, bytes),
             escaped(text) + " -> " + escaped(**again) + " != " + escaped(bytes));
}

bool parse_error(std::errc e) {
  return e == std::errc::invalid_argument || e == std::errc::result_out_of_range ||
         e == std::errc::file_too_large;
}

}  // namespace fieldfs::fuzz
