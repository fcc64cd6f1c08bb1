// SPDX-License-Identifier: MIT
// SPEC §8 and the last rule of §5 on the Tree, without a mount: which fields can be the counter,
// and concurrent .json writes and reads through the Tree, with and without -o seq=. nlohmann
// reads what .json shows; the oracle is the invariant the writers keep (y == -x, name == "x").
#include "core/sections.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/tree.hpp"
#include "leaf.hpp"

namespace fieldfs {
namespace {

using namespace std::chrono_literals;
using test::leaf;

/// struct pos { uint32_t seq; int32_t x, y; char name[24]; uint16_t small; uint32_t bits : 3;
/// union { uint32_t a, b; } u; (packed) uint32_t odd at 49; const uint32_t cseq; uint64_t wide; }
Schema pos_schema() {
  Schema s("pos", 64, 8);
  s.add_leaf(0, "seq", "uint32_t", leaf(Type::u32, 0, 4));
  s.add_leaf(0, "x", "int32_t", leaf(Type::i32, 4, 4));
  s.add_leaf(0, "y", "int32_t", leaf(Type::i32, 8, 4));
  s.add_leaf(0, "name", "char[24]", leaf(Type::chars, 12, 24));
  s.add_leaf(0, "small", "uint16_t", leaf(Type::u16, 36, 2));
  s.add_leaf(0, "bits", "uint32_t", leaf(Type::u32, 40, 4, 0, 3));
  auto u = s.add_dir(0, "u", "union u");
  s.add_leaf(u, "a", "uint32_t", leaf(Type::u32, 44, 4));
  s.add_leaf(u, "b", "uint32_t", leaf(Type::u32, 44, 4));
  s.add_leaf(0, "odd", "uint32_t", leaf(Type::u32, 49, 4));
  Leaf c = leaf(Type::u32, 52, 4);
  c.is_const = true;
  s.add_leaf(0, "cseq", "const uint32_t", c);
  s.add_leaf(0, "wide", "uint64_t", leaf(Type::u64, 56, 8));
  return s;
}

TEST(CounterTest, OnlyAnAlignedUnsignedFourOrEightByteFieldOfItsOwnIsACounter) {
  Schema s = pos_schema();
  EXPECT_EQ(find_counter(s, "seq").error, "");
  EXPECT_EQ(s.node(find_counter(s, "seq").node).name, "seq");
  EXPECT_EQ(find_counter(s, "wide").error, "");
  EXPECT_EQ(find_counter(s, "x").error,
            "-o seq=x: int32_t is not an unsigned integer of 4 or 8 bytes");
  EXPECT_NE(find_counter(s, "name").error, "");
  EXPECT_NE(find_counter(s, "small").error, "");
  EXPECT_EQ(find_counter(s, "bits").error, "-o seq=bits: a bit-field cannot be the counter");
  EXPECT_EQ(find_counter(s, "u/a").error, "-o seq=u/a: shares its bytes with u/b (a union member)");
  EXPECT_EQ(find_counter(s, "u.b").error, "-o seq=u.b: shares its bytes with u/a (a union member)");
  EXPECT_EQ(find_counter(s, "odd").error, "-o seq=odd: not aligned to its size (offset 49)");
  EXPECT_EQ(find_counter(s, "cseq").error, "-o seq=cseq: const, but writers change the counter");
  EXPECT_EQ(find_counter(s, "u").error, "-o seq=u: a union u, not an unsigned integer");
  EXPECT_EQ(find_counter(s, "nope").error, "-o seq=nope: no such field in struct pos");
  EXPECT_EQ(find_counter(s, "").error, "-o seq=: no such field in struct pos");
}

class SectionsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    name_ = "fieldfs-unit-sections-" + std::to_string(getpid());
    SegmentOptions o;
    o.size = schema_.size();
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    ASSERT_TRUE(s);
    segment_.emplace(std::move(*s));
    Consistency c;
    if (GetParam()) c.counter = find_counter(schema_, "seq").node;
    c.bound = 2s;  // a thread paused inside a section on a busy machine must not fail others
    tree_.emplace(schema_, *segment_, false, Ownership::of_process(), c);
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  std::uint32_t node(std::string_view name) const { return *schema_.find(0, name); }
  std::uint32_t json() const { return schema_.node_count() + 1; }
  std::uint32_t counter() const {
    std::uint32_t v;
    std::memcpy(&v, segment_->data(), sizeof v);
    return v;
  }
  Result<void> write(std::uint32_t n, const std::string& text) {
    OpenFile* f = tree_->open_file(n);
    auto r = tree_->write(*f, 0, text);
    tree_->close_file(f);
    return r;
  }
  std::string read(std::uint32_t n) {
    OpenFile* f = tree_->open_file(n);
    auto r = tree_->read(*f, 0, 1 << 16);
    tree_->close_file(f);
    return r ? *r : "error " + std::to_string(static_cast<int>(r.error()));
  }

  Schema schema_ = pos_schema();
  std::string name_;
  std::optional<Segment> segment_;
  std::optional<Tree> tree_;
};

TEST_P(SectionsTest, ConcurrentJsonWritesAreNeverSeenMixed) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 1; i <= 3000; ++i) {
        int x = w == 0 ? i : 100000 + i;
        std::string doc = R"({"x":)" + std::to_string(x) + R"(,"y":)" + std::to_string(-x) +
                          R"(,"name":")" + std::to_string(x) + "xxxxxxxxxxxxxxxxx" + R"("})";
        ASSERT_TRUE(write(json(), doc));
      }
    });
  }
  long mixed = 0;
  long reads = 0;
  std::thread reader([&] {
    while (!stop) {
      auto doc = nlohmann::json::parse(read(json()), nullptr, false);
      ASSERT_TRUE(doc.is_object());
      int x = doc["x"];
      reads++;
      std::string expect = x == 0 ? "" : std::to_string(x) + "xxxxxxxxxxxxxxxxx";
      if (doc["y"] != -x || doc["name"] != expect) mixed++;
    }
  });
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(mixed, 0);
  if (GetParam()) {
    EXPECT_EQ(counter(), 2U * 6000);
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutSeq, SectionsTest, ::testing::Bool());

using SeqTreeTest = SectionsTest;

TEST_P(SeqTreeTest, AJsonWriteNamingTheCounterIsACompareAndSet) {
  ASSERT_TRUE(write(node("x"), "1"));
  ASSERT_EQ(counter(), 2U);
  auto stale = write(json(), R"({"seq":0,"x":5})");
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(read(node("x")), "1\n");
  EXPECT_EQ(counter(), 2U);
  ASSERT_TRUE(write(json(), R"({"seq":2,"x":5})"));
  EXPECT_EQ(read(node("x")), "5\n");
  EXPECT_EQ(read(node("seq")), "4\n");
  EXPECT_EQ(tree_->check_open(node("seq"), O_WRONLY).error(), std::errc::permission_denied);
  EXPECT_EQ(tree_->attributes(node("seq")).st_mode & 0777, 0444U);
}

TEST_P(SeqTreeTest, ARawWriteIsACompareAndSetOnTheImagesCounter) {
  std::string image = read(schema_.node_count());  // .raw
  ASSERT_EQ(image.size(), schema_.size());
  std::int32_t x = 9;
  std::memcpy(image.data() + 4, &x, 4);
  ASSERT_TRUE(write(schema_.node_count(), image));
  EXPECT_EQ(read(node("x")), "9\n");
  EXPECT_EQ(counter(), 2U);  // the daemon advanced it, not the image
  auto stale = write(schema_.node_count(), image);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::resource_unavailable_try_again);
}

TEST_P(SeqTreeTest, AStuckOddCounterFailsReadsAndWritesWithinTheBound) {
  tree_.emplace(schema_, *segment_, false, Ownership::of_process(),
                Consistency{find_counter(schema_, "seq").node, 50ms});
  std::uint32_t odd = 7;
  std::memcpy(segment_->data(), &odd, sizeof odd);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read(node("name")), "error " + std::to_string(EAGAIN));
  EXPECT_EQ(write(node("x"), "3").error(), std::errc::resource_unavailable_try_again);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(counter(), 7U);
  std::uint32_t even = 8;
  std::memcpy(segment_->data(), &even, sizeof even);
  EXPECT_EQ(read(node("x")), "0\n");
}

INSTANTIATE_TEST_SUITE_P(WithSeq, SeqTreeTest, ::testing::Values(true));

}  // namespace
}  // namespace fieldfs
