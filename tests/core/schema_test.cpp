// SPDX-License-Identifier: MIT
#include "fieldfs/schema.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace fieldfs {
namespace {

TEST(SchemaTest, BuiltinFooIsTwoIntsAsCLaysThemOut) {
  Schema s = Schema::builtin_foo();
  EXPECT_EQ(s.size(), 8U);
  EXPECT_EQ(s.align(), 4U);
  ASSERT_EQ(s.node(0).children.size(), 2U);
  const Node& bar = s.node(s.node(0).children[0]);
  const Node& baz = s.node(s.node(0).children[1]);
  EXPECT_EQ(bar.name, "bar");
  EXPECT_EQ(baz.name, "baz");
  EXPECT_EQ(bar.leaf.offset, 0U);
  EXPECT_EQ(baz.leaf.offset, 4U);
  EXPECT_EQ(baz.leaf.type, Type::i32);
}

TEST(SchemaTest, FindsChildrenByNameUnderTheirOwnParent) {
  Schema s("outer", 16, 4);
  auto pos = s.add_dir(0, "pos", "struct pos");
  auto x = s.add_leaf(pos, "x", "int", Leaf{Type::i32, 0, 4});
  s.add_leaf(0, "x", "int", Leaf{Type::i32, 8, 4});
  EXPECT_EQ(s.find(pos, "x"), x);
  EXPECT_NE(s.find(0, "x"), x);
  EXPECT_FALSE(s.find(pos, "y").has_value());
  EXPECT_EQ(s.path(x), "pos/x");
}

/// Nanoseconds per find() of each of `names` in `s`, the best of three rounds.
double find_ns(const Schema& s, const std::vector<std::string>& names) {
  double best = 1e18;
  for (int round = 0; round < 3; ++round) {
    std::size_t found = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& n : names) found += s.find(0, n).has_value() ? 1U : 0U;
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(found, names.size());
    best = std::min(best, std::chrono::duration<double, std::nano>(took).count());
  }
  return best / static_cast<double>(names.size());
}

Schema int_fields(std::uint32_t n) {
  Schema s("s", n * 4, 4);
  for (std::uint32_t i = 0; i < n; ++i) {
    s.add_leaf(0, "f" + std::to_string(i), "int", Leaf{Type::i32, i * 4, 4});
  }
  return s;
}

TEST(SchemaTest, LookupStaysFastWithAHundredThousandFields) {
  Schema big = int_fields(100000);
  EXPECT_EQ(big.find(0, "f99999"), 100000U);
  EXPECT_EQ(big.node(100000).leaf.offset, 399996U);
  // 2,000 names spread over the big struct against as many lookups in a struct of two fields:
  // a walk of the fields would cost 25,000 times more; a hash a few cache misses more.
  std::vector<std::string> spread;
  std::vector<std::string> two;
  for (int i = 0; i < 2000; ++i) {
    spread.push_back("f" + std::to_string(i * 997 % 100000));
    two.push_back("f" + std::to_string(i % 2));
  }
  double small_ns = find_ns(int_fields(2), two);
  double big_ns = find_ns(big, spread);
  EXPECT_LT(big_ns, small_ns * 20 + 200)
      << "find() among 100,000 fields: " << big_ns << " ns, among 2: " << small_ns << " ns";
}

TEST(SchemaTest, LayoutTextListsPathTypeOffsetSizeMode) {
  std::string text = layout_text(Schema::builtin_foo());
  EXPECT_NE(text.find("bar"), std::string::npos);
  EXPECT_NE(text.find("0644"), std::string::npos);
  EXPECT_NE(text.find("struct foo: size 8, align 4"), std::string::npos);
}

Schema every_shape() {
  Schema s("mix", 24, 8);
  auto e = s.add_enum({{"off", 0}, {"on", 1}, {"odd name with spaces", -7}});
  auto dir = s.add_dir(0, "pos", "struct pos");
  s.add_leaf(dir, "x", "double", Leaf{Type::f64, 0, 8});
  s.add_leaf(0, "mode", "enum mode", Leaf{Type::u32, 8, 4, 0, 0, true, e});
  s.add_leaf(0, "flag", "unsigned int", Leaf{Type::u32, 12, 4, 3, 1});
  s.add_leaf(0, "name", std::string("char[8]\n\0x", 10), Leaf{Type::chars, 16, 8});
  return s;
}

TEST(SchemaWireTest, RoundTripKeepsEveryNodeLeafAndEnum) {
  Schema s = every_shape();
  std::string wire = schema_to_wire(s);
  auto back = schema_from_wire(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(schema_to_wire(*back), wire);
  EXPECT_EQ(layout_text(*back), layout_text(s));
  ASSERT_EQ(back->node_count(), s.node_count());
  EXPECT_EQ(back->node(5).type_name, std::string("char[8]\n\0x", 10)) << "any byte in a name";
  EXPECT_EQ(back->enumerators(0)[2].name, "odd name with spaces");
  EXPECT_EQ(back->enumerators(0)[2].value, -7);
  EXPECT_EQ(back->node(4).leaf.bit_offset, 3);
  EXPECT_TRUE(back->node(3).leaf.is_const);
  EXPECT_EQ(*back->find(*back->find(0, "pos"), "x"), 2U);
}

TEST(SchemaWireTest, EveryTruncationAndCorruptionIsRefused) {
  std::string wire = schema_to_wire(every_shape());
  for (std::size_t n = 0; n < wire.size(); ++n) {
    EXPECT_FALSE(schema_from_wire(wire.substr(0, n))) << "cut at " << n;
  }
  EXPECT_FALSE(schema_from_wire(wire + "1 "));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string w = wire;
    w.replace(w.find(from), from.size(), to);
    return schema_from_wire(w);
  };
  EXPECT_FALSE(with("fieldfs-schema 1", "fieldfs-schema 2"));
  EXPECT_FALSE(with("0 1 3:pos", "9 1 3:pos")) << "a parent after its child";
  EXPECT_FALSE(with("1:x 6:double 9 0 8", "1:x 6:double 9 20 8")) << "a leaf past the struct";
  EXPECT_FALSE(with("1:x 6:double 9", "1:x 6:double 12")) << "no such type";
  EXPECT_FALSE(with("4:mode", "4:flag")) << "two names alike in one directory";
  EXPECT_FALSE(with(" 24 8 ", " 024 8 ")) << "numbers only as written";
}

}  // namespace
}  // namespace fieldfs
