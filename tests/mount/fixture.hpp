// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace fieldfs::test {

/// A test with the default struct foo mounted on a fresh shm segment; the daemon must exit 0.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override {
    if (m_) {
      EXPECT_EQ(m_->stop(), 0) << "daemon stderr:\n" << m_->daemon_stderr();
    }
  }
  /// (Re)starts the mount with these options.
  void start(std::vector<std::string> args, std::string source = "") {
    m_.reset();
    m_ = std::make_unique<Mount>(std::move(args), std::move(source));
    ASSERT_TRUE(m_->mounted()) << "fieldfs did not mount:\n" << m_->daemon_stderr();
  }
  std::string at(const std::string& name) const { return quote(m_->path(name)); }
  /// Runs a shell command inside the mount directory.
  Outcome in_mount(const std::string& command) {
    return sh("cd " + quote(m_->dir()) + " && " + command);
  }
  std::int32_t* foo() { return static_cast<std::int32_t*>(m_->map(8)); }

  std::unique_ptr<Mount> m_;
};

}  // namespace fieldfs::test
