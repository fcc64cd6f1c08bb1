// SPDX-License-Identifier: MIT
#include "core/views.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/codec.hpp"

namespace fieldfs {
namespace {

// The C struct the hand-built schema describes; offsetof gives the compiler's real padding.
struct Inner {
  std::int16_t a;
  std::uint8_t b;
};
struct Point {
  std::int32_t x, y;
};
struct Every {
  std::int8_t i8;
  std::uint8_t u8;
  std::int16_t i16;
  std::uint16_t u16;
  std::int32_t i32;
  std::uint32_t u32;
  std::int64_t i64;
  std::uint64_t u64;
  bool flag;
  float f;
  double d;
  char name[8];
  std::int32_t color;  // enum color { RED, GREEN, BLUE = -1 }
  std::uint32_t bits;  // unsigned ready:1; unsigned mode:3; int offset:12; enum color tone:4
  Inner inner;
  std::int32_t arr[3];
  Point pts[2];
  std::int16_t grid[2][3];
  std::uint32_t build;  // const
};

std::uint32_t u32(std::size_t n) { return static_cast<std::uint32_t>(n); }

Leaf leaf(Type type, std::size_t offset, std::size_t size) {
  Leaf l;
  l.type = type;
  l.offset = u32(offset);
  l.size = u32(size);
  return l;
}

Leaf bits(Type type, unsigned bit_offset, unsigned width, std::int32_t enum_index = -1) {
  Leaf l = leaf(type, offsetof(Every, bits), 4);
  l.bit_offset = static_cast<std::uint8_t>(bit_offset);
  l.bit_width = static_cast<std::uint8_t>(width);
  l.enum_index = enum_index;
  return l;
}

void add_scalars(Schema& s, std::int32_t color) {
  s.add_leaf(0, "i8", "int8_t", leaf(Type::i8, offsetof(Every, i8), 1));
  s.add_leaf(0, "u8", "uint8_t", leaf(Type::u8, offsetof(Every, u8), 1));
  s.add_leaf(0, "i16", "int16_t", leaf(Type::i16, offsetof(Every, i16), 2));
  s.add_leaf(0, "u16", "uint16_t", leaf(Type::u16, offsetof(Every, u16), 2));
  s.add_leaf(0, "i32", "int32_t", leaf(Type::i32, offsetof(Every, i32), 4));
  s.add_leaf(0, "u32", "uint32_t", leaf(Type::u32, offsetof(Every, u32), 4));
  s.add_leaf(0, "i64", "int64_t", leaf(Type::i64, offsetof(Every, i64), 8));
  s.add_leaf(0, "u64", "uint64_t", leaf(Type::u64, offsetof(Every, u64), 8));
  s.add_leaf(0, "flag", "bool", leaf(Type::boolean, offsetof(Every, flag), 1));
  s.add_leaf(0, "f", "float", leaf(Type::f32, offsetof(Every, f), 4));
  s.add_leaf(0, "d", "double", leaf(Type::f64, offsetof(Every, d), 8));
  s.add_leaf(0, "name", "char[8]", leaf(Type::chars, offsetof(Every, name), 8));
  Leaf c = leaf(Type::i32, offsetof(Every, color), 4);
  c.enum_index = color;
  s.add_leaf(0, "color", "enum color", c);
  s.add_leaf(0, "ready", "unsigned int", bits(Type::u32, 0, 1));
  s.add_leaf(0, "mode", "unsigned int", bits(Type::u32, 1, 3));
  s.add_leaf(0, "offset", "int", bits(Type::i32, 4, 12));
  s.add_leaf(0, "tone", "enum color", bits(Type::i32, 16, 4, color));
}

void add_nested(Schema& s) {
  auto inner = s.add_dir(0, "inner", "struct inner");
  s.add_leaf(inner, "a", "int16_t", leaf(Type::i16, offsetof(Every, inner.a), 2));
  s.add_leaf(inner, "b", "uint8_t", leaf(Type::u8, offsetof(Every, inner.b), 1));
  auto arr = s.add_dir(0, "arr", "int32_t[3]");
  for (std::size_t i = 0; i < 3; ++i) {
    s.add_leaf(arr, std::to_string(i), "int32_t", leaf(Type::i32, offsetof(Every, arr) + 4 * i, 4));
  }
  auto pts = s.add_dir(0, "pts", "struct point[2]");
  for (std::size_t i = 0; i < 2; ++i) {
    auto p = s.add_dir(pts, std::to_string(i), "struct point");
    std::size_t base = offsetof(Every, pts) + sizeof(Point) * i;
    s.add_leaf(p, "x", "int32_t", leaf(Type::i32, base + offsetof(Point, x), 4));
    s.add_leaf(p, "y", "int32_t", leaf(Type::i32, base + offsetof(Point, y), 4));
  }
  auto grid = s.add_dir(0, "grid", "int16_t[2][3]");
  for (std::size_t r = 0; r < 2; ++r) {
    auto row = s.add_dir(grid, std::to_string(r), "int16_t[3]");
    for (std::size_t c = 0; c < 3; ++c) {
      s.add_leaf(row, std::to_string(c), "int16_t",
                 leaf(Type::i16, offsetof(Every, grid) + 2 * (3 * r + c), 2));
    }
  }
  Leaf build = leaf(Type::u32, offsetof(Every, build), 4);
  build.is_const = true;
  s.add_leaf(0, "build", "const uint32_t", build);
}

Schema every_schema() {
  Schema s("every", u32(sizeof(Every)), u32(alignof(Every)));
  add_scalars(s, s.add_enum({{"RED", 0}, {"GREEN", 1}, {"BLUE", -1}}));
  add_nested(s);
  return s;
}

Every sample() {
  Every e{};
  e.i8 = -8;
  e.u8 = 200;
  e.i16 = -1600;
  e.u16 = 60000;
  e.i32 = -32;
  e.u32 = 4000000000U;
  e.i64 = std::numeric_limits<std::int64_t>::min();
  e.u64 = std::numeric_limits<std::uint64_t>::max();
  e.flag = true;
  e.f = 0.1F;
  e.d = -2.5e-300;
  std::memcpy(e.name, "hi \"x\"", 7);
  e.color = 1;
  e.bits = 1U | (5U << 1) | (0xFFEU << 4) | (0xFU << 16);  // offset -2, tone BLUE
  e.inner = {-7, 9};
  e.arr[0] = 1, e.arr[1] = 2, e.arr[2] = 3;
  e.pts[0] = {10, 11}, e.pts[1] = {12, 13};
  for (int i = 0; i < 6; ++i) e.grid[i / 3][i % 3] = static_cast<std::int16_t>(i - 3);
  e.build = 77;
  return e;
}

/// Per byte, the bits some field owns (`writable`: only fields that are not const); the rest is
/// padding, which copies of a C++ struct need not preserve.
std::string owned_bits(const Schema& s, bool writable) {
  std::string mask(s.size(), '\0');
  for (std::uint32_t i = 0; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    if (n.is_dir || (writable && n.leaf.is_const)) continue;
    for (std::uint32_t b = 0; b < n.leaf.size; ++b) {
      auto bits_here = static_cast<unsigned char>(bit_mask(n.leaf) >> (8 * b));
      mask[n.leaf.offset + b] = static_cast<char>(mask[n.leaf.offset + b] | bits_here);
    }
  }
  return mask;
}

/// `mask` bits from `bits`, the others from `rest`.
std::string blend(std::string rest, std::string_view bits, std::string_view mask) {
  for (std::size_t i = 0; i < rest.size(); ++i) {
    rest[i] = static_cast<char>((rest[i] & ~mask[i]) | (bits[i] & mask[i]));
  }
  return rest;
}

/// All zero but the const field, which a stored document may only repeat.
Every blank() {
  Every e{};
  e.build = 77;
  return e;
}

class ViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-views-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  Segment open(std::uint32_t size, bool read_only = false) {
    SegmentOptions o;
    o.size = size;
    o.read_only = read_only;
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    EXPECT_TRUE(s) << "errno " << (s ? 0 : to_errno(s.error()));
    return std::move(*s);
  }
  /// Stores `e` with all padding bits zero.
  void put(Segment& seg, const Every& e) const {
    std::string b = fields_of(e);
    std::memcpy(seg.data(), b.data(), b.size());
  }
  /// The bytes of `e` as put() stores them: padding zero.
  std::string fields_of(const Every& e) const {
    std::string_view from(reinterpret_cast<const char*>(&e), sizeof e);
    return blend(std::string(sizeof e, '\0'), from, owned_bits(schema_, false));
  }
  static Every get(const Segment& seg) {
    Every e;
    std::memcpy(&e, seg.data(), sizeof e);
    return e;
  }
  static std::string bytes(const Segment& seg, std::size_t n = sizeof(Every)) {
    return std::string(reinterpret_cast<const char*>(seg.data()), n);
  }

  Schema schema_ = every_schema();
  std::string name_;
};

TEST_F(ViewsTest, RendersEveryKindInDeclarationOrder) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  auto json = render_json(schema_, seg);
  ASSERT_TRUE(json);
  EXPECT_EQ(*json,
            R"({"i8": -8, "u8": 200, "i16": -1600, "u16": 60000, "i32": -32, "u32": 4000000000, )"
            R"("i64": -9223372036854775808, "u64": 18446744073709551615, "flag": true, )"
            R"("f": 0.1, "d": -2.5e-300, "name": "hi \"x\"", "color": "GREEN", "ready": 1, )"
            R"("mode": 5, "offset": -2, "tone": "BLUE", "inner": {"a": -7, "b": 9}, )"
            R"("arr": [1, 2, 3], "pts": [{"x": 10, "y": 11}, {"x": 12, "y": 13}], )"
            R"("grid": [[-3, -2, -1], [0, 1, 2]], "build": 77})"
            "\n");
  EXPECT_TRUE(nlohmann::json::accept(*json));
}

TEST_F(ViewsTest, IsArrayDirOnlyForChildrenNamedByIndex) {
  EXPECT_FALSE(is_array_dir(schema_, 0));
  EXPECT_TRUE(is_array_dir(schema_, *schema_.find(0, "arr")));
  EXPECT_TRUE(is_array_dir(schema_, *schema_.find(0, "pts")));
  EXPECT_FALSE(is_array_dir(schema_, *schema_.find(0, "inner")));
  EXPECT_FALSE(is_array_dir(schema_, *schema_.find(0, "i8")));
  Schema s("odd", 8, 4);
  auto d = s.add_dir(0, "d", "x");
  s.add_leaf(d, "1", "int", leaf(Type::i32, 0, 4));
  s.add_leaf(d, "0", "int", leaf(Type::i32, 4, 4));
  EXPECT_FALSE(is_array_dir(s, d));
  EXPECT_FALSE(is_array_dir(s, s.add_dir(0, "empty", "struct empty")));
}

TEST_F(ViewsTest, JsonRoundTripGivesTheSameBytes) {
  Segment seg = open(schema_.size());
  Every e = sample();
  e.f = std::numeric_limits<float>::infinity();
  e.d = std::numeric_limits<double>::quiet_NaN();
  put(seg, e);
  auto before = bytes(seg);
  auto json = render_json(schema_, seg);
  ASSERT_TRUE(json);
  EXPECT_NE(json->find(R"("f": "inf", "d": "nan")"), std::string::npos) << *json;
  put(seg, blank());
  ASSERT_TRUE(store_json(schema_, seg, *json));
  EXPECT_EQ(bytes(seg), before);
}

TEST_F(ViewsTest, FloatExtremesRoundTrip) {
  Segment seg = open(schema_.size());
  const float floats[] = {-std::numeric_limits<float>::infinity(), -0.0F,
                          std::numeric_limits<float>::denorm_min(), 3.4028235e38F, 1.0F / 3};
  const double doubles[] = {std::numeric_limits<double>::max(), -0.0,
                            std::numeric_limits<double>::denorm_min(), 0.1 + 0.2,
                            -std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < 5; ++i) {
    Every e = sample();
    e.f = floats[i];
    e.d = doubles[i];
    put(seg, e);
    auto before = bytes(seg);
    auto json = render_json(schema_, seg);
    ASSERT_TRUE(json);
    put(seg, blank());
    ASSERT_TRUE(store_json(schema_, seg, *json)) << *json;
    EXPECT_EQ(bytes(seg), before) << *json;
  }
}

TEST_F(ViewsTest, SubsetWriteChangesOnlyTheNamedFields) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  ASSERT_TRUE(store_json(schema_, seg,
                         R"( {"i32": 5, "inner": {"b": 7}, "arr": [null, 9, null], "color": "BLUE",
                              "pts": [null, {"y": -1}], "mode": 2, "f": "-inf", "d": 1e3,
                              "name": "abc", "u64": 0, "flag": false, "build": 77} )"
                         "\n"));
  Every want = sample();
  want.i32 = 5;
  want.inner.b = 7;
  want.arr[1] = 9;
  want.color = -1;
  want.pts[1].y = -1;
  want.bits = (want.bits & ~0xEU) | (2U << 1);
  want.f = -std::numeric_limits<float>::infinity();
  want.d = 1000;
  std::memset(want.name, 0, sizeof want.name);
  std::memcpy(want.name, "abc", 3);
  want.u64 = 0;
  want.flag = false;
  EXPECT_EQ(bytes(seg), fields_of(want));
  ASSERT_TRUE(store_json(schema_, seg, "{}"));
  EXPECT_EQ(bytes(seg), fields_of(want));
}

TEST_F(ViewsTest, EveryErrorLeavesTheSegmentUnchanged) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  const auto before = bytes(seg);
  const struct {
    const char* json;
    std::errc want;
  } cases[] = {
      {"", std::errc::invalid_argument},
      {"{", std::errc::invalid_argument},
      {"{\"i32\": 1} x", std::errc::invalid_argument},
      {"[]", std::errc::invalid_argument},
      {"5", std::errc::invalid_argument},
      {"null", std::errc::invalid_argument},
      {R"({"i32": 1, "nope": 2})", std::errc::invalid_argument},
      {R"({"inner": {"c": 1}})", std::errc::invalid_argument},
      {R"({"i32": "1"})", std::errc::invalid_argument},
      {R"({"i32": 1.5})", std::errc::invalid_argument},
      {R"({"i32": 1e3})", std::errc::invalid_argument},
      {R"({"i32": true})", std::errc::invalid_argument},
      {R"({"i32": "nan"})", std::errc::invalid_argument},
      {R"({"name": 5})", std::errc::invalid_argument},
      {R"({"name": "a\u0000b"})", std::errc::invalid_argument},
      {"{\"name\": \"\xff\"}", std::errc::invalid_argument},
      {R"({"flag": "true"})", std::errc::invalid_argument},
      {R"({"f": "1.5"})", std::errc::invalid_argument},
      {R"({"f": "Infinity"})", std::errc::invalid_argument},
      {R"({"color": "PURPLE"})", std::errc::invalid_argument},
      {R"({"color": "GRE"})", std::errc::invalid_argument},
      {R"({"inner": 5})", std::errc::invalid_argument},
      {R"({"inner": [1, 2]})", std::errc::invalid_argument},
      {R"({"arr": {"0": 1}})", std::errc::invalid_argument},
      {R"({"arr": [1, 2]})", std::errc::invalid_argument},
      {R"({"arr": [1, 2, 3, 4]})", std::errc::invalid_argument},
      {R"({"grid": [[1, 2, 3], [4, 5]]})", std::errc::invalid_argument},
      {R"({"pts": [{"x": 1}, {"z": 1}]})", std::errc::invalid_argument},
      {R"({"i8": 128, "x": })", std::errc::invalid_argument},
      {R"({"i32": 1, "u8": 256})", std::errc::result_out_of_range},
      {R"({"i8": -129})", std::errc::result_out_of_range},
      {R"({"u64": -1})", std::errc::result_out_of_range},
      {R"({"u64": 18446744073709551616})", std::errc::result_out_of_range},
      {R"({"i64": 9223372036854775808})", std::errc::result_out_of_range},
      {R"({"i64": -9223372036854775809})", std::errc::result_out_of_range},
      {R"({"mode": 8})", std::errc::result_out_of_range},
      {R"({"offset": -2049})", std::errc::result_out_of_range},
      {R"({"flag": 2})", std::errc::result_out_of_range},
      {R"({"f": 1e39})", std::errc::result_out_of_range},
      {R"({"i32": 1, "name": "12345678"})", std::errc::file_too_large},
      {R"({"i32": 1, "build": 78})", std::errc::permission_denied},
      {R"({"build": 77, "u16": 65536})", std::errc::result_out_of_range},
  };
  for (const auto& c : cases) {
    auto r = store_json(schema_, seg, c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error(), c.want) << c.json;
    EXPECT_EQ(bytes(seg), before) << c.json;
  }
}

TEST_F(ViewsTest, SixtyFourBitExtremesAreExact) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  ASSERT_TRUE(
      store_json(schema_, seg, R"({"i64": 9223372036854775807, "u64": 18446744073709551615})"));
  EXPECT_EQ(get(seg).i64, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(get(seg).u64, std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(
      store_json(schema_, seg, R"({"i64": -9223372036854775808, "u64": 9007199254740993})"));
  EXPECT_EQ(get(seg).i64, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(get(seg).u64, 9007199254740993U);  // 2^53 + 1: no detour through double
  auto json = render_json(schema_, seg);
  ASSERT_TRUE(json);
  EXPECT_NE(json->find(R"("i64": -9223372036854775808, "u64": 9007199254740993,)"),
            std::string::npos);
}

TEST_F(ViewsTest, StringsAreValidJsonWhateverTheirBytes) {
  Segment seg = open(schema_.size());
  Every e = sample();
  std::memcpy(e.name, "a\xff\tb\x01\0zz", 8);
  put(seg, e);
  auto json = render_json(schema_, seg);
  ASSERT_TRUE(json);
  ASSERT_TRUE(nlohmann::json::accept(*json)) << *json;
  EXPECT_EQ(nlohmann::json::parse(*json)["name"], "a\xef\xbf\xbd\tb\x01");
  ASSERT_TRUE(store_json(schema_, seg, R"({"name": "\u00e9t\u00e9\n"})"));
  EXPECT_EQ(std::string(get(seg).name), "\xc3\xa9t\xc3\xa9\n");  // the newline is kept
}

TEST_F(ViewsTest, ShortSegmentIsEio) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  const auto before = bytes(seg, 8);
  int fd = ::shm_open(name_.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 8), 0);
  EXPECT_EQ(render_raw(schema_, seg).error(), std::errc::io_error);
  EXPECT_EQ(render_json(schema_, seg).error(), std::errc::io_error);
  EXPECT_EQ(store_json(schema_, seg, R"({"i8": 1})").error(), std::errc::io_error);
  EXPECT_EQ(store_raw(schema_, seg, std::string(schema_.size(), '\0')).error(),
            std::errc::io_error);
  EXPECT_EQ(bytes(seg, 8), before);
  ASSERT_EQ(::ftruncate(fd, schema_.size()), 0);
  ::close(fd);
  EXPECT_TRUE(render_json(schema_, seg));
}

TEST_F(ViewsTest, ReadOnlySegmentIsErofsAndUnchanged) {
  Segment rw = open(schema_.size());
  put(rw, sample());
  const auto before = bytes(rw);
  Segment ro = open(schema_.size(), true);
  EXPECT_EQ(store_json(schema_, ro, R"({"i8": 1})").error(), std::errc::read_only_file_system);
  EXPECT_EQ(store_raw(schema_, ro, before).error(), std::errc::read_only_file_system);
  EXPECT_EQ(bytes(rw), before);
}

TEST_F(ViewsTest, RawIsTheStructsBytes) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  seg.data()[offsetof(Every, inner) + 3] = std::byte{0xAB};  // padding is shown as it is
  seg.data()[offsetof(Every, bits) + 3] = std::byte{0xCD};   // so are unnamed bits
  auto raw = render_raw(schema_, seg);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), schema_.size());
  EXPECT_EQ(*raw, bytes(seg));
}

TEST_F(ViewsTest, RawStoreSkipsConstAndPadding) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  const auto before = bytes(seg);
  std::string raw(schema_.size(), '\x5A');
  ASSERT_TRUE(store_raw(schema_, seg, raw));
  EXPECT_EQ(bytes(seg), blend(before, raw, owned_bits(schema_, true)));
  EXPECT_EQ(get(seg).build, 77U);
  Every e = sample();
  e.i32 = 123456;
  put(seg, blank());
  std::string want(reinterpret_cast<const char*>(&e), sizeof e);
  ASSERT_TRUE(store_raw(schema_, seg, want));
  EXPECT_EQ(bytes(seg), blend(std::string(sizeof e, '\0'), want, owned_bits(schema_, false)));
}

TEST_F(ViewsTest, RawWrongSizeIsEinvalAndUnchanged) {
  Segment seg = open(schema_.size());
  put(seg, sample());
  const auto before = bytes(seg);
  for (std::size_t n : {std::size_t{0}, sizeof(Every) - 1, sizeof(Every) + 1}) {
    auto r = store_raw(schema_, seg, std::string(n, '\x11'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_EQ(bytes(seg), before);
  }
}

// Unoptimized and sanitized builds (the dev, asan, tsan presets) run nlohmann's templates many
// times slower; there the budget only catches quadratic behaviour.
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
constexpr double kBudgetMs = 500;
#else
constexpr double kBudgetMs = 10000;
#endif

double ms(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// SPEC §7's largest struct: 100,000 fields, half of them at the root, half in one array. Each
// field costs Segment's size check (an fstat), about a microsecond; anything quadratic would
// take minutes.
TEST_F(ViewsTest, HundredThousandFieldsTakeWellUnderASecond) {
  constexpr std::uint32_t kHalf = 50000;
  Schema s("big", kHalf * 4 * 2, 4);
  for (std::uint32_t i = 0; i < kHalf; ++i) {
    s.add_leaf(0, "f" + std::to_string(i), "int", leaf(Type::i32, 4 * i, 4));
  }
  auto arr = s.add_dir(0, "a", "int[50000]");
  for (std::uint32_t i = 0; i < kHalf; ++i) {
    s.add_leaf(arr, std::to_string(i), "int", leaf(Type::i32, 4 * (kHalf + i), 4));
  }
  Segment seg = open(s.size());
  for (std::uint32_t i = 0; i < s.size(); ++i) {
    seg.data()[i] = std::byte{static_cast<unsigned char>(i)};
  }
  const auto before = bytes(seg, s.size());
  auto start = std::chrono::steady_clock::now();
  auto json = render_json(s, seg);
  auto rendered = std::chrono::steady_clock::now();
  ASSERT_TRUE(json);
  std::memset(seg.data(), 0, s.size());
  ASSERT_TRUE(store_json(s, seg, *json));
  auto stored = std::chrono::steady_clock::now();
  auto raw = render_raw(s, seg);
  auto raw_rendered = std::chrono::steady_clock::now();
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, before);
  ASSERT_TRUE(store_raw(s, seg, *raw));
  auto raw_stored = std::chrono::steady_clock::now();
  EXPECT_LT(ms(start, rendered), kBudgetMs) << "render_json";
  EXPECT_LT(ms(rendered, stored), kBudgetMs) << "store_json";
  EXPECT_LT(ms(stored, raw_rendered), kBudgetMs) << "render_raw";
  EXPECT_LT(ms(raw_rendered, raw_stored), kBudgetMs) << "store_raw";
}

}  // namespace
}  // namespace fieldfs
