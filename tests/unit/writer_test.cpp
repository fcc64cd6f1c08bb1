// SPDX-License-Identifier: MIT
#include "fieldfs/writer.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace fieldfs {
namespace {

class WriterTest : public ::testing::Test {
 protected:
  Schema schema_ = Schema::builtin_foo();
  Leaf leaf_ = schema_.node(1).leaf;
  WriteCollector w_;

  /// "<n>" for a value to store, "incomplete", or "error <errno>".
  std::string write(std::uint64_t offset, std::string_view data) {
    auto r = w_.write(schema_, leaf_, offset, data);
    if (!r) return "error " + std::to_string(to_errno(r.error()));
    if (!r->has_value()) return "incomplete";
    std::int32_t v = 0;
    std::memcpy(&v, (*r)->data(), 4);
    return std::to_string(v);
  }
};

TEST_F(WriterTest, EchoStoresAtOnce) { EXPECT_EQ(write(0, "7\n"), "7"); }

TEST_F(WriterTest, DdOneByteAtATimeAppends) {
  EXPECT_EQ(write(0, "1"), "1");
  EXPECT_EQ(write(1, "2"), "12");
  EXPECT_EQ(write(2, "3"), "123");
  EXPECT_EQ(write(3, "\n"), "123");
  EXPECT_TRUE(w_.flush());
}

TEST_F(WriterTest, AMinusAloneWaitsForItsDigits) {
  EXPECT_EQ(write(0, "-"), "incomplete");
  EXPECT_EQ(write(1, "5"), "-5");
  EXPECT_TRUE(w_.flush());
}

TEST_F(WriterTest, CloseWithAnIncompleteValueFailsWithEinvalAndKeepsIt) {
  EXPECT_EQ(write(0, "0x"), "incomplete");
  for (int copy = 0; copy < 2; ++copy) {  // each close of a copy (a forked child's exit) reports
    auto done = w_.flush();
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error(), std::errc::invalid_argument);
  }
  EXPECT_EQ(write(2, "1f\n"), "31") << "another copy of the descriptor completes the value";
  EXPECT_TRUE(w_.flush());
}

TEST_F(WriterTest, AppendModeOffsetStartsANewValue) {
  EXPECT_EQ(write(0, "1"), "1");
  EXPECT_EQ(write(4096, "5\n"), "5") << "echo 5 >> bar writes at the file size";
}

TEST_F(WriterTest, OffsetZeroStartsANewValue) {
  EXPECT_EQ(write(0, "12"), "12");
  EXPECT_EQ(write(0, "3"), "3");
}

TEST_F(WriterTest, ANewlineEndsTheValueAndTheNextWriteStartsAnother) {
  EXPECT_EQ(write(0, "1\n"), "1");
  EXPECT_EQ(write(2, "2\n"), "2") << "{ echo 1; echo 2; } > bar";
}

TEST_F(WriterTest, ErrorsForgetTheTextAndTheNextWriteStartsAfresh) {
  EXPECT_EQ(write(0, "x"), "error 22");
  EXPECT_EQ(write(1, "5"), "5");
  EXPECT_EQ(write(0, "99999999999\n"), "error 34");
  EXPECT_EQ(write(0, "\n"), "error 22");
}

TEST_F(WriterTest, MoreThan4096BytesFailWithEfbig) {
  std::string blanks(4000, ' ');
  EXPECT_EQ(write(0, blanks), "incomplete");
  EXPECT_EQ(write(4000, blanks), "error 27");
  EXPECT_TRUE(w_.flush()) << "nothing is left pending after an error";
}

}  // namespace
}  // namespace fieldfs
