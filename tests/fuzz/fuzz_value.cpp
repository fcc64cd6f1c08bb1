// SPDX-License-Identifier: MIT
// parse_value on every kind of leaf. Input: one byte that picks the leaf, then the text written.
// Besides the round trip (fuzz::check_value), integers are checked against SPEC §5's syntax
// written out again here: blanks, a sign, 0x/0o/0b or decimal digits, blanks, one final newline;
// a value outside the field's type is ERANGE, never wrapped or saturated.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/codec.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

namespace {

/// What SPEC §5 says integer text means.
struct Expected {
  enum { value, incomplete, invalid, range } outcome;
  bool neg = false;
  std::uint64_t mag = 0;
};

int digit(char c, int base) {
  int lower = c | 0x20;
  int d = c >= '0' && c <= '9' ? c - '0' : lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : 99;
  return d < base ? d : -1;
}

Expected expected_integer(std::string_view text) {
  bool ended = !text.empty() && text.back() == '\n';
  if (ended) text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) return {Expected::invalid};
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  Expected e{Expected::value};
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    e.neg = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() >= 2 && text[0] == '0' &&
      std::string_view("xXoObB").find(text[1]) != std::string_view::npos) {
    base = (text[1] | 0x20) == 'x' ? 16 : (text[1] | 0x20) == 'o' ? 8 : 2;
    text.remove_prefix(2);
  }
  if (text.empty()) return {ended ? Expected::invalid : Expected::incomplete};
  bool overflow = false;
  for (char c : text) {
    int d = digit(c, base);
    if (d < 0) return {Expected::invalid};
    auto b = static_cast<std::uint64_t>(base);
    overflow = overflow || e.mag > (UINT64_MAX - static_cast<std::uint64_t>(d)) / b;
    e.mag = e.mag * b + static_cast<std::uint64_t>(d);
  }
  if (overflow) e.outcome = Expected::range;
  return e;
}

/// The field's bytes for a value that fits, or nullopt when it does not.
std::optional<std::string> packed(const Leaf& leaf, bool neg, std::uint64_t mag) {
  unsigned bits = leaf.bit_width != 0 ? leaf.bit_width : leaf.size * 8U;
  std::uint64_t top = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;  // max unsigned
  if (is_signed(leaf.type)) {
    std::uint64_t min_mag = std::uint64_t{1} << (bits - 1);
    if (neg ? mag > min_mag : mag >= min_mag) return std::nullopt;
  } else if ((neg && mag != 0) || mag > top) {
    return std::nullopt;
  }
  std::uint64_t v = neg ? ~mag + 1 : mag;
  std::uint64_t placed = (v & top) << leaf.bit_offset;
  std::string out(leaf.size, '\0');
  std::memcpy(out.data(), &placed, std::min<std::size_t>(leaf.size, sizeof placed));
  return out;
}

void check_integer(const Leaf& leaf, std::string_view text,
                   const Result<std::optional<std::string>>& parsed) {
  Expected e = expected_integer(text);
  std::string what = fuzz::escaped(text);
  switch (e.outcome) {
    case Expected::incomplete:
      FUZZ_CHECK(parsed && !*parsed, "should wait for more: " + what);
      return;
    case Expected::invalid:
      FUZZ_CHECK(!parsed && parsed.error() == std::errc::invalid_argument,
                 "should be EINVAL: " + what);
      return;
    case Expected::range:
      FUZZ_CHECK(!parsed && parsed.error() == std::errc::result_out_of_range, "ERANGE: " + what);
      return;
    case Expected::value:
      break;
  }
  auto want = packed(leaf, e.neg, e.mag);
  if (!want) {
    FUZZ_CHECK(!parsed && parsed.error() == std::errc::result_out_of_range, "ERANGE: " + what);
    return;
  }
  FUZZ_CHECK(parsed && *parsed && **parsed == *want, what);
}

bool starts_like_a_name(std::string_view text) {
  auto at = text.find_first_not_of(" \t");
  if (at == std::string_view::npos) return false;
  char c = text[at];
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? true : c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Schema& schema = fuzz::schema();
  const Leaf& leaf = *fuzz::leaves()[data[0] % fuzz::leaves().size()];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  bool ended = text.find('\n') != std::string_view::npos;

  auto parsed = parse_value(schema, leaf, text);
  if (is_integer(leaf.type) && text.size() <= kMaxTextBytes &&
      !(leaf.enum_index >= 0 && starts_like_a_name(text))) {
    check_integer(leaf, text, parsed);
  }
  if (!parsed) {
    FUZZ_CHECK(fuzz::parse_error(parsed.error()), fuzz::escaped(text));
    FUZZ_CHECK(text.size() <= kMaxTextBytes || parsed.error() == std::errc::file_too_large,
               "over 4096 bytes of text must be EFBIG");
    return 0;
  }
  if (!*parsed) {  // text that can still become a value: never once a newline ended it
    FUZZ_CHECK(!ended && leaf.type != Type::chars, fuzz::escaped(text));
    return 0;
  }
  const std::string& bytes = **parsed;
  fuzz::check_value(schema, leaf, bytes);

  // A value complete without its newline is the same value once the newline comes.
  if (!ended && leaf.type != Type::chars && text.size() < kMaxTextBytes) {
    auto with_newline = parse_value(schema, leaf, std::string(text) + "\n");
    FUZZ_CHECK(with_newline && *with_newline && **with_newline == bytes, fuzz::escaped(text));
  }
  return 0;
}
