// SPDX-License-Identifier: MIT
#include "core/codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace fieldfs {
namespace {

Leaf leaf_of(Type t, std::uint32_t size) { return Leaf{t, 0, size}; }

class CodecTest : public ::testing::Test {
 protected:
  Schema schema_ = Schema::builtin_foo();

  /// The stored bytes for `text`, or "" with the errc in `e`.
  std::string parse(const Leaf& leaf, std::string_view text, std::errc* e = nullptr) {
    auto r = parse_value(schema_, leaf, text);
    if (!r) {
      if (e != nullptr) *e = r.error();
      return "<error>";
    }
    return r->has_value() ? **r : "<incomplete>";
  }
  std::errc error_of(const Leaf& leaf, std::string_view text) {
    std::errc e{};
    EXPECT_EQ(parse(leaf, text, &e), "<error>") << "text: " << text;
    return e;
  }
  template <typename T>
  T parsed_as(const Leaf& leaf, std::string_view text) {
    std::string bytes = parse(leaf, text);
    EXPECT_EQ(bytes.size(), sizeof(T)) << "text: " << text;
    T v{};
    std::memcpy(&v, bytes.data(), std::min(bytes.size(), sizeof v));
    return v;
  }
  template <typename T>
  std::string format(const Leaf& leaf, T v) {
    std::string bytes(sizeof v, '\0');
    std::memcpy(bytes.data(), &v, sizeof v);
    return format_value(schema_, leaf, bytes);
  }
};

const Leaf kI32 = leaf_of(Type::i32, 4);
const Leaf kU8 = leaf_of(Type::u8, 1);
const Leaf kI8 = leaf_of(Type::i8, 1);
const Leaf kU64 = leaf_of(Type::u64, 8);
const Leaf kI64 = leaf_of(Type::i64, 8);
const Leaf kF32 = leaf_of(Type::f32, 4);
const Leaf kF64 = leaf_of(Type::f64, 8);
const Leaf kBool = leaf_of(Type::boolean, 1);
const Leaf kChars = leaf_of(Type::chars, 8);

TEST_F(CodecTest, FormatsIntegersInDecimalWithNewline) {
  EXPECT_EQ(format<std::int32_t>(kI32, 42), "42\n");
  EXPECT_EQ(format<std::int32_t>(kI32, -7), "-7\n");
  EXPECT_EQ(format<std::int32_t>(kI32, std::numeric_limits<std::int32_t>::min()), "-2147483648\n");
  EXPECT_EQ(format<std::uint64_t>(kU64, ~0ULL), "18446744073709551615\n");
  EXPECT_EQ(format<std::int8_t>(kI8, -128), "-128\n");
  EXPECT_EQ(format<std::uint8_t>(kU8, 255), "255\n");
}

TEST_F(CodecTest, AcceptsDecimalHexOctalBinaryWithSignAndBlanks) {
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "42\n"), 42);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "  -42 \t\n"), -42);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "+7"), 7);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "0x1F"), 31);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "0X1f"), 31);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "-0x10"), -16);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "0o17"), 15);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "0b101"), 5);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "010"), 10) << "leading zeros stay decimal";
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "0"), 0);
  EXPECT_EQ(parsed_as<std::int32_t>(kI32, "-2147483648"), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(parsed_as<std::uint64_t>(kU64, "18446744073709551615"), ~0ULL);
  EXPECT_EQ(parsed_as<std::int64_t>(kI64, "-9223372036854775808"),
            std::numeric_limits<std::int64_t>::min());
}

TEST_F(CodecTest, RejectsTextThatIsNotANumberWithEinval) {
  for (auto text : {"abc\n", "abc", "12abc", "1 2", "0x\n", "-\n", "\n", " \n", "1.5", "0xg", "0b2",
                    "--1", "+-1", "5\n\n", "5\n6", "1e3", "0x 1"}) {
    EXPECT_EQ(error_of(kI32, text), std::errc::invalid_argument) << "text: " << text;
  }
}

TEST_F(CodecTest, RejectsNumbersOutsideTheTypeWithErange) {
  for (auto text : {"2147483648", "-2147483649", "99999999999999999999999", "0x100000000"}) {
    EXPECT_EQ(error_of(kI32, text), std::errc::result_out_of_range) << text;
  }
  EXPECT_EQ(error_of(kU8, "256"), std::errc::result_out_of_range);
  EXPECT_EQ(error_of(kU8, "-1"), std::errc::result_out_of_range) << "no wrap-around";
  EXPECT_EQ(error_of(kI8, "128"), std::errc::result_out_of_range) << "no saturation";
  EXPECT_EQ(error_of(kU64, "18446744073709551616"), std::errc::result_out_of_range);
  EXPECT_EQ(parsed_as<std::uint8_t>(kU8, "-0"), 0);
}

TEST_F(CodecTest, KeepsPrefixesThatCanStillBecomeValues) {
  for (auto text : {"-", "+", "0x", "-0b", "  ", "", "\t"}) {
    EXPECT_EQ(parse(kI32, text), "<incomplete>") << "text: '" << text << "'";
  }
  for (auto text : {"-", "1e", "1e-", ".", "in", "infin", "na", "-i"}) {
    EXPECT_EQ(parse(kF64, text), "<incomplete>") << "text: '" << text << "'";
  }
  for (auto text : {"t", "tr", "fal", "ye", "o", "of"}) {
    EXPECT_EQ(parse(kBool, text), "<incomplete>") << "text: '" << text << "'";
  }
}

TEST_F(CodecTest, FloatsFormatShortestRoundTrip) {
  EXPECT_EQ(format<double>(kF64, 0.1), "0.1\n");
  EXPECT_EQ(format<double>(kF64, 1e300), "1e+300\n");
  EXPECT_EQ(format<float>(kF32, 0.1F), "0.1\n");
  EXPECT_EQ(format<double>(kF64, std::numeric_limits<double>::infinity()), "inf\n");
  EXPECT_EQ(format<double>(kF64, -std::numeric_limits<double>::infinity()), "-inf\n");
  EXPECT_EQ(format<double>(kF64, std::nan("")), "nan\n");
  for (double v : {0.1, 1.0 / 3, 6.02214076e23, -2.5e-310, 123456789.0}) {
    std::string text = format<double>(kF64, v);
    EXPECT_EQ(parsed_as<double>(kF64, text), v) << text;
  }
}

TEST_F(CodecTest, FloatsParseDecimalScientificInfNan) {
  EXPECT_EQ(parsed_as<double>(kF64, "1.5\n"), 1.5);
  EXPECT_EQ(parsed_as<double>(kF64, " -2e3 "), -2000.0);
  EXPECT_EQ(parsed_as<double>(kF64, "+.5"), 0.5);
  EXPECT_EQ(parsed_as<double>(kF64, "7"), 7.0);
  EXPECT_TRUE(std::isinf(parsed_as<double>(kF64, "inf")));
  EXPECT_TRUE(std::isinf(parsed_as<double>(kF64, "-Infinity")));
  EXPECT_TRUE(std::isnan(parsed_as<double>(kF64, "NaN")));
  EXPECT_EQ(parsed_as<float>(kF32, "0.1"), 0.1F);
  EXPECT_EQ(error_of(kF64, "1.2.3"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kF64, "0x10"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kF64, "abc"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kF64, "1e\n"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kF64, "1e400"), std::errc::result_out_of_range);
  EXPECT_EQ(error_of(kF32, "1e39"), std::errc::result_out_of_range);
}

TEST_F(CodecTest, BoolsAcceptEveryWordInAnyCase) {
  for (auto text : {"1", "true", "TRUE", "Yes", "on", "y", "Y\n"}) {
    EXPECT_EQ(parsed_as<std::uint8_t>(kBool, text), 1) << text;
  }
  for (auto text : {"0", "false", "No", "OFF", "n", "N\n"}) {
    EXPECT_EQ(parsed_as<std::uint8_t>(kBool, text), 0) << text;
  }
  EXPECT_EQ(error_of(kBool, "maybe"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kBool, "tru\n"), std::errc::invalid_argument);
  EXPECT_EQ(error_of(kBool, "2"), std::errc::result_out_of_range);
  EXPECT_EQ(format<std::uint8_t>(kBool, 1), "1\n");
  EXPECT_EQ(format<std::uint8_t>(kBool, 0), "0\n");
}

TEST_F(CodecTest, StringsAreStoredAsGivenMinusOneNewline) {
  std::string bytes = parse(kChars, "hello\n");
  EXPECT_EQ(bytes, std::string("hello\0\0\0", 8));
  EXPECT_EQ(parse(kChars, " a b \n"), std::string(" a b \0\0\0", 8)) << "blanks are kept";
  EXPECT_EQ(parse(kChars, "1234567"), std::string("1234567\0", 8));
  EXPECT_EQ(error_of(kChars, "12345678"), std::errc::file_too_large);
  EXPECT_EQ(parse(kChars, "a\n\n"), std::string("a\n\0\0\0\0\0\0", 8));
  EXPECT_EQ(parse(kChars, ""), std::string(8, '\0'));
  EXPECT_EQ(format_value(schema_, kChars, std::string("hi\0junk!", 8)), "hi\n");
  EXPECT_EQ(format_value(schema_, kChars, std::string("full-str", 8)), "full-str\n");
}

TEST_F(CodecTest, TextOver4096BytesFailsWithEfbig) {
  EXPECT_EQ(error_of(kI32, std::string(4097, ' ')), std::errc::file_too_large);
  EXPECT_EQ(parse(kI32, std::string(4094, ' ') + "1\n"), std::string("\1\0\0\0", 4));
}

TEST_F(CodecTest, EnumsReadByNameAndAcceptNameOrNumber) {
  Schema s("e", 4, 4);
  Leaf e{Type::u32, 0, 4};
  e.enum_index = s.add_enum({{"red", 0}, {"green", 1}, {"blue", 7}});
  auto bytes = [](std::uint32_t v) { return std::string(reinterpret_cast<char*>(&v), 4); };
  EXPECT_EQ(format_value(s, e, bytes(7)), "blue\n");
  EXPECT_EQ(format_value(s, e, bytes(3)), "3\n") << "a value without a name reads as its number";
  EXPECT_EQ(*parse_value(s, e, "green\n").value(), bytes(1));
  EXPECT_EQ(*parse_value(s, e, "3").value(), bytes(3));
  EXPECT_FALSE(parse_value(s, e, "gre")->has_value()) << "a prefix of a name can still complete";
  EXPECT_EQ(parse_value(s, e, "purple\n").error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_value(s, e, "gre\n").error(), std::errc::invalid_argument);
}

TEST_F(CodecTest, BitFieldsCheckTheirWidthAndLandInPlace) {
  Leaf b{Type::u32, 0, 4, /*bit_offset=*/4, /*bit_width=*/3};
  EXPECT_EQ(bit_mask(b), 0x70U);
  auto bits = [](std::string_view s) {
    std::uint32_t v = 0;
    std::memcpy(&v, s.data(), 4);
    return v;
  };
  EXPECT_EQ(bits(*parse_value(schema_, b, "5").value()), 5U << 4);
  EXPECT_EQ(parse_value(schema_, b, "8").error(), std::errc::result_out_of_range);
  std::uint32_t word = 0xFFFFFF5F;  // bits 4..6 hold 5, the neighbours are all ones
  EXPECT_EQ(format_value(schema_, b, std::string(reinterpret_cast<char*>(&word), 4)), "5\n");
  Leaf s{Type::i8, 0, 1, 0, 4};
  EXPECT_EQ(parse_value(schema_, s, "8").error(), std::errc::result_out_of_range);
  std::uint8_t neg = 0x0F;
  EXPECT_EQ(format_value(schema_, s, std::string(reinterpret_cast<char*>(&neg), 1)), "-1\n");
  EXPECT_EQ(static_cast<std::uint8_t>((*parse_value(schema_, s, "-8").value())[0]), 0x08);
}

}  // namespace
}  // namespace fieldfs
