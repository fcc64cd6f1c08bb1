// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "core/tree.hpp"

namespace fieldfs {

/// struct foo on a fresh shm segment, with a Tree over it; the segment is unlinked afterwards.
class TreeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-unit-tree-" + std::to_string(getpid());
    SegmentOptions o;
    o.size = schema_.size();
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    ASSERT_TRUE(s);
    segment_.emplace(std::move(*s));
    tree_.emplace(schema_, *segment_, false);
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  Schema schema_ = Schema::builtin_foo();
  std::string name_;
  std::optional<Segment> segment_;
  std::optional<Tree> tree_;
};

}  // namespace fieldfs
