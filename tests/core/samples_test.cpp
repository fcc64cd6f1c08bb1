// SPDX-License-Identifier: MIT
// Read samples (Tree::read over SampleStore): shared between open files that read the same
// bytes, dropped once read to their end, and bounded all together by one budget (ENOMEM).
#include "core/samples.hpp"

#include <gtest/gtest.h>

#include "tree_fixture.hpp"

namespace fieldfs {
namespace {

TEST(SampleStoreTest, HoldsUpToTheBudgetAndFreesWithTheLastHolder) {
  SampleStore store(100);
  auto a = store.hold(std::string(60, 'a'));
  ASSERT_TRUE(a);
  EXPECT_EQ(store.held(), 60U);
  auto b = store.hold(std::string(50, 'b'));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), std::errc::not_enough_memory);
  EXPECT_EQ(store.held(), 60U) << "a refused sample is not counted";
  Sample copy = *a;
  a->reset();
  EXPECT_EQ(store.held(), 60U) << "still held by another open file";
  copy.reset();
  EXPECT_EQ(store.held(), 0U);
  EXPECT_TRUE(store.hold(std::string(100, 'c')));
}

TEST(SampleStoreTest, EqualImagesAreOneSampleAndRenderedOnce) {
  SampleStore store;
  auto first = store.image("abc");
  auto second = store.image("abc");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->get(), second->get());
  int renders = 0;
  auto render = [&](std::string_view image) -> Result<std::string> {
    ++renders;
    return std::string(image) + "!";
  };
  auto text = store.rendering(*first, render);
  auto again = store.rendering(*second, render);
  ASSERT_TRUE(text && again);
  EXPECT_EQ(**text, "abc!");
  EXPECT_EQ(text->get(), again->get());
  EXPECT_EQ(renders, 1);
  EXPECT_NE(store.image("abd")->get(), first->get());
}

class TreeSamplesTest : public TreeFixture {
 protected:
  std::uint32_t json() const { return schema_.node_count() + 1; }
  std::int32_t* bar() { return reinterpret_cast<std::int32_t*>(segment_->data()); }
};

TEST_F(TreeSamplesTest, OpenFilesThatReadTheSameBytesShareOneSample) {
  OpenFile a;
  OpenFile b;
  a.node = b.node = json();
  EXPECT_EQ(*tree_->read(a, 0, 1), "{");
  EXPECT_EQ(*tree_->read(b, 0, 1), "{");
  EXPECT_EQ(a.basis.get(), b.basis.get());
  EXPECT_EQ(a.sample.get(), b.sample.get());
}

TEST_F(TreeSamplesTest, ASampleReadToItsEndIsDroppedAndMadeAgainFromItsBytes) {
  OpenFile f;
  f.node = json();
  *bar() = 12;
  EXPECT_EQ(*tree_->read(f, 0, 100), "{\"bar\": 12, \"baz\": 0}\n");
  EXPECT_EQ(f.sample, nullptr) << "read to its end";
  EXPECT_NE(f.basis, nullptr) << "its bytes stay, for pollers";
  *bar() = 345;
  EXPECT_EQ(*tree_->read(f, 100, 100), "");
  EXPECT_EQ(*tree_->read(f, 8, 3), "12,") << "the same sample as at offset 0";
  EXPECT_EQ(*tree_->read(f, 0, 100), "{\"bar\": 345, \"baz\": 0}\n");
}

}  // namespace
}  // namespace fieldfs
