// SPDX-License-Identifier: MIT
#include "core/tree.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tree_fixture.hpp"

namespace fieldfs {
namespace {

class TreeTest : public TreeFixture {
 protected:
  std::uint32_t bar() { return *tree_->node_of(*tree_->lookup(1, "bar")); }
};

TEST_F(TreeTest, LooksUpFixedInodes) {
  EXPECT_EQ(*tree_->lookup(1, "bar"), 2U);
  EXPECT_EQ(*tree_->lookup(1, "baz"), 3U);
  EXPECT_EQ(tree_->lookup(1, "nope").error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(tree_->lookup(2, "x").error(), std::errc::not_a_directory);
  EXPECT_EQ(tree_->node_of(99).error(), std::errc::no_such_file_or_directory);
}

TEST_F(TreeTest, AttributesAreSysfsLike) {
  struct stat root = tree_->attributes(0);
  EXPECT_TRUE(S_ISDIR(root.st_mode));
  EXPECT_EQ(root.st_mode & 07777, 0755U);
  struct stat f = tree_->attributes(bar());
  EXPECT_TRUE(S_ISREG(f.st_mode));
  EXPECT_EQ(f.st_mode & 07777, 0644U);
  EXPECT_EQ(f.st_size, 4096);
  EXPECT_EQ(f.st_uid, getuid());
}

TEST_F(TreeTest, AReadSamplesAtOffsetZeroAndContinuesTheSampleLater) {
  OpenFile f;
  f.node = bar();
  auto* bar_word = reinterpret_cast<std::int32_t*>(segment_->data());
  *bar_word = 12;
  EXPECT_EQ(*tree_->read(f, 0, 1), "1");
  *bar_word = 99;
  EXPECT_EQ(*tree_->read(f, 1, 1), "2") << "the same sample, not half of another value";
  EXPECT_EQ(*tree_->read(f, 2, 1), "\n");
  EXPECT_EQ(*tree_->read(f, 3, 1), "");
  EXPECT_EQ(*tree_->read(f, 0, 100), "99\n") << "offset 0 samples afresh";
}

TEST_F(TreeTest, WritesStoreCompleteValuesAndKeepTheOldOneOnError) {
  OpenFile f;
  f.node = bar();
  ASSERT_TRUE(tree_->write(f, 0, "41\n"));
  EXPECT_EQ(*reinterpret_cast<std::int32_t*>(segment_->data()), 41);
  EXPECT_EQ(tree_->write(f, 0, "abc\n").error(), std::errc::invalid_argument);
  EXPECT_EQ(*reinterpret_cast<std::int32_t*>(segment_->data()), 41);
}

TEST_F(TreeTest, OpenAndTruncateRules) {
  EXPECT_TRUE(tree_->check_open(bar(), O_WRONLY | O_TRUNC));
  EXPECT_EQ(tree_->check_open(0, O_RDONLY).error(), std::errc::is_a_directory);
  EXPECT_TRUE(tree_->check_truncate(bar(), 0));
  EXPECT_EQ(tree_->check_truncate(bar(), 3).error(), std::errc::invalid_argument);
  Tree ro(schema_, *segment_, true);
  EXPECT_EQ(ro.check_open(bar(), O_WRONLY).error(), std::errc::read_only_file_system);
  EXPECT_EQ(ro.attributes(bar()).st_mode & 07777, 0444U);
  Schema c("c", 4, 4);
  Leaf leaf{Type::i32, 0, 4};
  leaf.is_const = true;
  auto k = c.add_leaf(0, "k", "const int", leaf);
  Tree consts(c, *segment_, false);
  EXPECT_EQ(consts.check_open(k, O_RDWR).error(), std::errc::permission_denied);
  EXPECT_TRUE(consts.check_open(k, O_RDONLY));
  EXPECT_EQ(consts.attributes(k).st_mode & 07777, 0444U);
}

}  // namespace
}  // namespace fieldfs
