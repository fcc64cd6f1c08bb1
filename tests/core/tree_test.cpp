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

/// The modes SPEC §1 states for each umask, worked out by hand from its words ("writable fields
/// are 0666 & ~umask, const fields and ro mounts 0444 & ~umask, directories 0777 & ~umask").
struct Modes {
  mode_t umask, writable, fixed, dir;
};
constexpr Modes kSpecModes[] = {
    {022, 0644, 0444, 0755}, {0, 0666, 0444, 0777},   {077, 0600, 0400, 0700},
    {027, 0640, 0440, 0750}, {002, 0664, 0444, 0775}, {0777, 0, 0, 0},
};

TEST_F(TreeTest, OwnerGroupAndModesFollowTheOwnershipGiven) {
  Schema c("c", 8, 4);
  auto w = c.add_leaf(0, "w", "int", Leaf{Type::i32, 0, 4});
  Leaf fixed{Type::i32, 4, 4};
  fixed.is_const = true;
  auto k = c.add_leaf(0, "k", "const int", fixed);
  auto d = c.add_dir(0, "d", "struct d");
  auto x = c.add_leaf(d, "x", "int", Leaf{Type::i32, 0, 4});
  Tree plain(c, *segment_, false);
  auto view = [&](const char* name) { return *plain.node_of(*plain.lookup(1, name)); };
  std::uint32_t raw = view(".raw"), json = view(".json"), schema = view(".schema");
  for (const Modes& m : kSpecModes) {
    Tree t(c, *segment_, false, Ownership{1234, 567, m.umask});
    Tree ro(c, *segment_, true, Ownership{1234, 567, m.umask});
    auto mode = [](const Tree& tree, std::uint32_t node) {
      return tree.attributes(node).st_mode & 07777;
    };
    SCOPED_TRACE(m.umask);
    for (auto node : {0U, d, w, x, k, raw, json, schema}) {
      EXPECT_EQ(t.attributes(node).st_uid, 1234U);
      EXPECT_EQ(t.attributes(node).st_gid, 567U);
    }
    for (auto node : {w, x, raw, json}) EXPECT_EQ(mode(t, node), m.writable) << node;
    for (auto node : {k, schema}) EXPECT_EQ(mode(t, node), m.fixed) << node;
    for (auto node : {w, x, k, raw, json, schema}) EXPECT_EQ(mode(ro, node), m.fixed) << node;
    for (auto node : {0U, d}) {
      EXPECT_EQ(mode(t, node), m.dir);
      EXPECT_EQ(mode(ro, node), m.dir) << "ro changes the files, not the directories";
      EXPECT_TRUE(S_ISDIR(t.attributes(node).st_mode));
    }
    EXPECT_TRUE(S_ISREG(t.attributes(w).st_mode));
  }
}

TEST_F(TreeTest, TheDefaultOwnerIsTheProcessWithUmask022) {
  Ownership o = Ownership::of_process();
  EXPECT_EQ(o.uid, getuid());
  EXPECT_EQ(o.gid, getgid());
  EXPECT_EQ(o.umask, 022U);
  EXPECT_EQ(tree_->attributes(0).st_gid, getgid());
}

}  // namespace
}  // namespace fieldfs
