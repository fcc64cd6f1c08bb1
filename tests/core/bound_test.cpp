// SPDX-License-Identifier: MIT
// The st_size bounds against the real renderers (format_value, render_json) on worst-case and
// random values, and the cost of collecting a large .json in 4 KiB writes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "core/codec.hpp"
#include "core/tree.hpp"
#include "core/views.hpp"
#include "leaf.hpp"

namespace fieldfs {
namespace {

using test::leaf;

/// Every kind of leaf: integers, bool, floats, char[N], an enum, bit-fields, nested arrays.
Schema kinds() {
  Schema s("b", 88, 8);
  auto color = s.add_enum({{"A", 0}, {"A_VERY_LONG_ENUMERATOR_NAME", 5}, {"NEG", -7}});
  s.add_leaf(0, "i8", "int8_t", leaf(Type::i8, 0, 1));
  s.add_leaf(0, "u8", "uint8_t", leaf(Type::u8, 1, 1));
  s.add_leaf(0, "i16", "int16_t", leaf(Type::i16, 2, 2));
  s.add_leaf(0, "u16", "uint16_t", leaf(Type::u16, 4, 2));
  s.add_leaf(0, "i32", "int32_t", leaf(Type::i32, 8, 4));
  s.add_leaf(0, "u32", "uint32_t", leaf(Type::u32, 12, 4));
  s.add_leaf(0, "i64", "int64_t", leaf(Type::i64, 16, 8));
  s.add_leaf(0, "u64", "uint64_t", leaf(Type::u64, 24, 8));
  s.add_leaf(0, "flag", "bool", leaf(Type::boolean, 32, 1));
  s.add_leaf(0, "f", "float", leaf(Type::f32, 36, 4));
  s.add_leaf(0, "d", "double", leaf(Type::f64, 40, 8));
  s.add_leaf(0, "name", "char[16]", leaf(Type::chars, 48, 16));
  s.add_leaf(0, "color", "enum color", leaf(Type::i32, 64, 4, 0, 0, color));
  s.add_leaf(0, "small", "int", leaf(Type::i32, 68, 4, 0, 3));
  s.add_leaf(0, "wide", "unsigned", leaf(Type::u32, 68, 4, 3, 7));
  s.add_leaf(0, "tone", "enum color", leaf(Type::i32, 68, 4, 10, 4, color));
  auto items = s.add_dir(0, "items", "struct item[2]");
  for (std::uint32_t i = 0; i < 2; ++i) {
    auto item = s.add_dir(items, std::to_string(i), "struct item");
    s.add_leaf(item, "label", "char[5]", leaf(Type::chars, 72 + 8 * i, 5));
    s.add_leaf(item, "v", "int16_t", leaf(Type::i16, 78 + 8 * i, 2));
  }
  return s;
}

/// A segment of `size` bytes on a fresh shm name, unlinked at the end of the test.
class BoundTest : public ::testing::Test {
 protected:
  void open(std::uint32_t size) {
    name_ = "fieldfs-bound-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
    SegmentOptions o;
    o.size = size;
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    ASSERT_TRUE(s);
    segment_.emplace(std::move(*s));
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }
  std::byte* data() { return segment_->data(); }

  std::string name_;
  std::optional<Segment> segment_;
};

/// The longest text each kind of leaf can show, as the field file reads it back.
/// `storable`: a string as a write may set it (N-1 bytes and a NUL).
void put_worst(const Schema& s, Segment& seg, const Leaf& l, bool name_or_number,
               bool storable = false) {
  if (l.type == Type::chars) {
    std::memset(seg.data() + l.offset, 1, l.size);  // control bytes, no NUL: \u0001 each
    if (storable) seg.data()[l.offset + l.size - 1] = std::byte{0};
    return;
  }
  std::string text;
  unsigned bits = l.bit_width != 0 ? l.bit_width : l.size * 8;
  if (l.type == Type::f32) text = "-1.17549435e-38";
  if (l.type == Type::f64) text = "-2.2250738585072014e-308";
  if (l.type == Type::boolean) text = "0";
  if (is_integer(l.type)) {
    text = is_signed(l.type)
               ? std::to_string(bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1)))
               : std::to_string(bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1);
    if (l.enum_index >= 0 && name_or_number) text = "A_VERY_LONG_ENUMERATOR_NAME";
  }
  auto bytes = parse_value(s, l, text + "\n");
  ASSERT_TRUE(bytes && *bytes) << text;
  ASSERT_TRUE(seg.store(l, **bytes));
}

TEST_F(BoundTest, NoRenderingExceedsItsBound) {
  Schema s = kinds();
  open(s.size());
  std::mt19937 rng(7);
  std::size_t longest_json = 0;
  for (int round = 0; round < 2000; ++round) {
    for (std::uint32_t k = 0; k < s.size(); ++k) data()[k] = static_cast<std::byte>(rng());
    for (std::uint32_t i = 0; i < s.node_count(); ++i) {
      if (!s.node(i).is_dir && (round < 2 || rng() % 2 == 0)) {
        put_worst(s, *segment_, s.node(i).leaf, round % 2 == 0);
      }
    }
    for (std::uint32_t i = 0; i < s.node_count(); ++i) {
      const Leaf& l = s.node(i).leaf;
      if (s.node(i).is_dir) continue;
      std::string text = format_value(s, l, *segment_->load(l));
      ASSERT_LE(text.size(), text_bound(s, l)) << s.path(i) << ": " << text;
    }
    auto json = render_json(s, *segment_);
    ASSERT_TRUE(json);
    ASSERT_LE(json->size(), json_bound(s)) << *json;
    longest_json = std::max(longest_json, json->size());
  }
  EXPECT_GE(longest_json + 8, json_bound(s)) << "the worst case comes close: the bound is tight";
}

TEST_F(BoundTest, StSizeIsTheBoundAndNeverBelow4096) {
  Schema s("big", 8192 + 8, 4);
  s.add_leaf(0, "text", "char[8192]", leaf(Type::chars, 0, 8192));
  s.add_leaf(0, "n", "int32_t", leaf(Type::i32, 8192, 4));
  open(s.size());
  Tree tree(s, *segment_, false);
  EXPECT_EQ(tree.attributes(1).st_size, 8193);
  EXPECT_EQ(tree.attributes(2).st_size, 4096);
  EXPECT_EQ(static_cast<std::size_t>(tree.attributes(s.node_count() + 1).st_size), json_bound(s));
  EXPECT_EQ(tree.attributes(s.node_count()).st_size, 8200) << ".raw: exactly sizeof";
}

/// 65536 structs of two int32_t: a 2.5 MB .json with a `}` every 38 bytes.
Schema points() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr std::uint32_t kPoints = 8192;  // the sanitizers run 10-50x slower; the ratio stands
#else
  constexpr std::uint32_t kPoints = 65536;
#endif
  Schema s("pts", kPoints * 8, 4);
  auto pts = s.add_dir(0, "p", "struct xy[" + std::to_string(kPoints) + "]");
  for (std::uint32_t i = 0; i < kPoints; ++i) {
    auto p = s.add_dir(pts, std::to_string(i), "struct xy");
    s.add_leaf(p, "x", "int32_t", leaf(Type::i32, 8 * i, 4));
    s.add_leaf(p, "y", "int32_t", leaf(Type::i32, 8 * i + 4, 4));
  }
  return s;
}

TEST_F(BoundTest, CollectingInFourKiBWritesCostsAboutAsMuchAsOneWrite) {
  Schema s = points();
  open(s.size());
  std::memset(data(), 0x80, s.size());
  auto doc = render_json(s, *segment_);
  ASSERT_TRUE(doc);
  std::memset(data(), 0, s.size());
  Tree tree(s, *segment_, false);
  auto seconds = [&](std::size_t chunk) {
    double best = 1e9;
    for (int run = 0; run < 3; ++run) {
      OpenFile* f = tree.open_file(s.node_count() + 1);
      auto start = std::chrono::steady_clock::now();
      for (std::size_t at = 0; at < doc->size(); at += chunk) {
        EXPECT_TRUE(tree.write(*f, at, std::string_view(*doc).substr(at, chunk)));
      }
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      best = std::min(best, took.count());
      EXPECT_TRUE(tree.flush(*f));
      tree.close_file(f);
    }
    return best;
  };
  double whole = seconds(doc->size());
  double chunks = seconds(4096);
  EXPECT_EQ(*render_json(s, *segment_), *doc);
  EXPECT_LT(chunks, 4 * whole) << doc->size() << " bytes: one write " << whole << " s, in "
                               << doc->size() / 4096 << " writes " << chunks << " s";
  std::printf("%zu bytes: one write %.3f s, 4 KiB writes %.3f s\n", doc->size(), whole, chunks);
}

TEST_F(BoundTest, APrettyPrintedWorstCaseFitsTheWriteBound) {
  Schema s = kinds();
  open(s.size());
  for (std::uint32_t i = 0; i < s.node_count(); ++i) {
    if (!s.node(i).is_dir) put_worst(s, *segment_, s.node(i).leaf, true, true);
  }
  std::string pretty = nlohmann::json::parse(*render_json(s, *segment_)).dump(8) + "\n";
  EXPECT_LE(pretty.size(), json_write_bound(s) - 64 * 1024) << "without the flat slack";
  Tree tree(s, *segment_, false);
  OpenFile* f = tree.open_file(s.node_count() + 1);
  auto ok = tree.write(*f, 0, pretty);
  EXPECT_TRUE(ok) << to_errno(ok.error()) << pretty;
  EXPECT_TRUE(tree.flush(*f));
  tree.close_file(f);
}

}  // namespace
}  // namespace fieldfs
