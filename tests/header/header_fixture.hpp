// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "header/header_schema.hpp"

namespace fieldfs {

/// Writes headers into a fresh temp directory and loads them.
class HeaderSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/fieldfs-header-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  HeaderSchemaResult load(const std::string& text, const std::string& name = "",
                          std::vector<std::string> includes = {}) {
    return load_header_schema({write("t.h", text), name, std::move(includes)});
  }
  /// Loads a header that must succeed.
  Schema schema(const std::string& text, const std::string& name = "") {
    auto r = load(text, name);
    EXPECT_TRUE(r.schema) << r.error;
    return r.schema ? *r.schema : Schema("none", 0, 1);
  }
  /// The error of a header that must fail, with the temp dir replaced by "DIR".
  std::string error(const std::string& text, const std::string& name = "") {
    auto r = load(text, name);
    EXPECT_FALSE(r.schema);
    std::string e = r.error;
    if (auto at = e.find(dir_); at != std::string::npos) e.replace(at, dir_.size(), "DIR");
    return e;
  }
  std::string dir_;
};

/// The node at "a/b/0", or a failed expectation and the root.
inline const Node& at(const Schema& s, const std::string& path) {
  std::uint32_t index = 0;
  std::size_t begin = 0;
  while (!path.empty() && begin <= path.size()) {
    auto end = path.find('/', begin);
    if (end == std::string::npos) end = path.size();
    auto next = s.find(index, std::string_view(path).substr(begin, end - begin));
    if (!next) {
      ADD_FAILURE() << "no node " << path;
      return s.node(0);
    }
    index = *next;
    begin = end + 1;
  }
  return s.node(index);
}

inline void expect_leaf(const Schema& s, const std::string& path, Type type, std::uint32_t offset,
                        std::uint32_t size, const std::string& type_name = "") {
  SCOPED_TRACE(path);
  const Node& n = at(s, path);
  EXPECT_FALSE(n.is_dir);
  EXPECT_EQ(n.leaf.type, type);
  EXPECT_EQ(n.leaf.offset, offset);
  EXPECT_EQ(n.leaf.size, size);
  if (!type_name.empty()) {
    EXPECT_EQ(n.type_name, type_name);
  }
}

inline void expect_bits(const Schema& s, const std::string& path, std::uint32_t offset,
                        std::uint32_t size, unsigned bit_offset, unsigned width) {
  SCOPED_TRACE(path);
  const Leaf& l = at(s, path).leaf;
  EXPECT_EQ(l.offset, offset);
  EXPECT_EQ(l.size, size);
  EXPECT_EQ(l.bit_offset, bit_offset);
  EXPECT_EQ(l.bit_width, width);
}

inline std::vector<std::string> names(const Schema& s, const std::string& path) {
  std::vector<std::string> out;
  for (auto c : at(s, path).children) out.push_back(s.node(c).name);
  return out;
}

}  // namespace fieldfs
