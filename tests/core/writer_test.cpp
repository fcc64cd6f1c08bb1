// SPDX-License-Identifier: MIT
#include "core/writer.hpp"

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

TEST(RawCollectorTest, AnotherOffsetStartsANewImageAndBytesPastOneAreEinval) {
  RawCollector raw;
  EXPECT_EQ(raw.write(0, "abcd", 8).value(), false);
  EXPECT_FALSE(raw.flush()) << "half an image is pending";
  EXPECT_EQ(raw.write(4, "efgh", 8).value(), true);
  EXPECT_EQ(raw.text(), "abcdefgh");
  raw.done();
  EXPECT_TRUE(raw.flush());
  EXPECT_EQ(raw.write(8, "x", 8).error(), std::errc::invalid_argument) << "past the image";
  EXPECT_EQ(raw.write(8, "12345678", 8).value(), true) << "after an error: a new image";
  raw.done();
  EXPECT_EQ(raw.write(4096, "ABCDEFGH", 8).value(), true) << "cat img >> .raw writes at st_size";
  EXPECT_EQ(raw.text(), "ABCDEFGH");
  EXPECT_EQ(raw.write(0, "123456789", 8).error(), std::errc::invalid_argument);
}

TEST(JsonCollectorTest, MoreThanTheLimitIsEfbigAndForgotten) {
  JsonCollector json;
  EXPECT_EQ(json.write(0, std::string(60, ' '), 100).value(), true) << "the first write is judged";
  json.incomplete();
  EXPECT_EQ(json.write(60, std::string(30, ' '), 100).value(), false) << "not doubled yet";
  EXPECT_EQ(json.write(90, std::string(11, ' '), 100).error(), std::errc::file_too_large);
  EXPECT_TRUE(json.flush()) << "nothing is kept after an error";
  std::string start = "{\"a\": \"" + std::string(20, 'x');
  EXPECT_EQ(json.write(0, start, 100).value(), true);
  json.incomplete();
  EXPECT_EQ(json.write(start.size(), "}\\\"}\"", 100).value(), false) << "braces in a string";
  EXPECT_EQ(json.write(start.size() + 5, "}", 100).value(), true) << "this one closes it";
}

}  // namespace
}  // namespace fieldfs
