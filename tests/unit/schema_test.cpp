// SPDX-License-Identifier: MIT
#include "fieldfs/schema.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace fieldfs
