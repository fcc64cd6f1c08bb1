// SPDX-License-Identifier: MIT
#include "fieldfs/schema.hpp"

#include <gtest/gtest.h>

#include <string>

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

TEST(SchemaTest, LookupStaysFastWithAHundredThousandFields) {
  Schema s("big", 400000, 4);
  for (std::uint32_t i = 0; i < 100000; ++i) {
    s.add_leaf(0, "f" + std::to_string(i), "int", Leaf{Type::i32, i * 4, 4});
  }
  EXPECT_EQ(s.find(0, "f99999"), 100000U);
  EXPECT_EQ(s.node(100000).leaf.offset, 399996U);
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
