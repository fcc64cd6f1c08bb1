// SPDX-License-Identifier: MIT
#include "core/codec.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace fieldfs {

static_assert(std::endian::native == std::endian::little, "fieldfs assumes a little-endian host");

namespace {

using Parsed = Result<std::optional<std::string>>;
const std::optional<std::string> kIncomplete = std::nullopt;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// `s` equals `word` (complete) or could still grow into it (prefix), ignoring case.
enum class Match { none, prefix, whole };
Match match_word(std::string_view s, std::string_view word) {
  if (s.size() > word.size()) return Match::none;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (lower(s[i]) != word[i]) return Match::none;
  }
  return s.size() == word.size() ? Match::whole : Match::prefix;
}

unsigned value_bits(const Leaf& leaf) {
  return leaf.bit_width != 0 ? leaf.bit_width : leaf.size * 8U;
}

std::uint64_t load_le(std::string_view bytes) {
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data(), std::min<std::size_t>(bytes.size(), sizeof v));
  return v;
}

/// The field's value bits, sign-extended for signed types.
std::uint64_t unpack(const Leaf& leaf, std::string_view bytes) {
  std::uint64_t v = (load_le(bytes) & bit_mask(leaf)) >> leaf.bit_offset;
  unsigned bits = value_bits(leaf);
  if (is_signed(leaf.type) && bits < 64 && ((v >> (bits - 1)) & 1U) != 0) {
    v |= ~std::uint64_t{0} << bits;
  }
  return v;
}

std::string pack(const Leaf& leaf, std::uint64_t v) {
  std::uint64_t placed = (v << leaf.bit_offset) & bit_mask(leaf);
  std::string out(leaf.size, '\0');
  std::memcpy(out.data(), &placed, std::min<std::size_t>(leaf.size, sizeof placed));
  return out;
}

std::string format_integer(const Schema& schema, const Leaf& leaf, std::uint64_t v) {
  if (leaf.enum_index >= 0) {
    auto as_value = static_cast<std::int64_t>(v);
    for (const auto& e : schema.enumerators(leaf.enum_index)) {
      if (e.value == as_value) return e.name;
    }
  }
  char buf[32];
  auto r = is_signed(leaf.type) ? std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v))
                                : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <typename F>
std::string format_float(std::string_view bytes) {
  F f;
  std::memcpy(&f, bytes.data(), sizeof f);
  if (std::isnan(f)) return std::signbit(f) ? "-nan" : "nan";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
}

/// Checks that `v` (magnitude `mag`, negative if `neg`) fits the field; returns its bits.
Result<std::uint64_t> fit_integer(const Leaf& leaf, bool neg, std::uint64_t mag) {
  unsigned bits = value_bits(leaf);
  if (is_signed(leaf.type)) {
    std::uint64_t limit = std::uint64_t{1} << (bits - 1);  // |min|; max is limit - 1
    if (neg ? mag > limit : mag >= limit) return fail(std::errc::result_out_of_range);
    return neg ? ~mag + 1 : mag;
  }
  if (neg && mag != 0) return fail(std::errc::result_out_of_range);
  if (bits < 64 && mag >> bits != 0) return fail(std::errc::result_out_of_range);
  return mag;
}

Parsed parse_enum_name(const Schema& schema, const Leaf& leaf, std::string_view s, bool ended) {
  bool could_grow = false;
  for (const auto& e : schema.enumerators(leaf.enum_index)) {
    if (e.name == s) {
      auto bits = fit_integer(leaf, e.value < 0,
                              e.value < 0 ? ~static_cast<std::uint64_t>(e.value) + 1
                                          : static_cast<std::uint64_t>(e.value));
      if (!bits) return Error{bits.error()};
      return std::optional<std::string>(pack(leaf, *bits));
    }
    could_grow = could_grow || std::string_view(e.name).starts_with(s);
  }
  if (could_grow && !ended) return kIncomplete;
  return fail(std::errc::invalid_argument);
}

Parsed parse_integer(const Schema& schema, const Leaf& leaf, std::string_view s, bool ended) {
  if (leaf.enum_index >= 0 && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return parse_enum_name(schema, leaf, s, ended);
  }
  std::size_t i = 0;
  bool neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') ++i;
  int base = 10;
  if (i + 1 < s.size() && s[i] == '0') {
    char p = lower(s[i + 1]);
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
    if (base != 10) i += 2;
  }
  if (i == s.size()) return ended ? Parsed(fail(std::errc::invalid_argument)) : kIncomplete;
  std::uint64_t mag = 0;
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), mag, base);
  if (ptr != s.data() + s.size() || ec == std::errc::invalid_argument) {
    return fail(std::errc::invalid_argument);
  }
  if (ec == std::errc::result_out_of_range) return fail(std::errc::result_out_of_range);
  auto bits = fit_integer(leaf, neg, mag);
  if (!bits) return Error{bits.error()};
  return std::optional<std::string>(pack(leaf, *bits));
}

/// Decimal or scientific text: complete, a prefix that can still grow, or neither.
Match scan_decimal(std::string_view s) {
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  auto digits = [&] {
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++n;
    return n;
  };
  std::size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') ++i, mantissa += digits();
  if (mantissa == 0) return i == s.size() ? Match::prefix : Match::none;
  if (i < s.size() && lower(s[i]) == 'e') {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return i == s.size() ? Match::prefix : Match::none;
  }
  return i == s.size() ? Match::whole : Match::none;
}

template <typename F>
Parsed parse_float(const Leaf& leaf, std::string_view s, bool ended) {
  bool neg = s[0] == '-';
  std::string_view body = (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
  F f{};
  Match m = Match::none;
  for (auto word : {"inf", "infinity", "nan"}) {
    Match w = match_word(body, word);
    if (w == Match::whole) {
      f = word[1] == 'a' ? std::numeric_limits<F>::quiet_NaN() : std::numeric_limits<F>::infinity();
      if (neg) f = -f;
    }
    m = std::max(m, w);
  }
  if (m == Match::none) {
    m = scan_decimal(s);
    if (m == Match::whole) {
      auto [ptr, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), f);
      if (ec == std::errc::result_out_of_range) return fail(std::errc::result_out_of_range);
      if (ec != std::errc{} || ptr != s.data() + s.size()) return fail(std::errc::invalid_argument);
    }
  }
  if (m == Match::none || (m == Match::prefix && ended)) return fail(std::errc::invalid_argument);
  if (m == Match::prefix) return kIncomplete;
  std::string out(leaf.size, '\0');
  std::memcpy(out.data(), &f, sizeof f);
  return std::optional<std::string>(std::move(out));
}

Parsed parse_bool(const Leaf& leaf, std::string_view s, bool ended) {
  static constexpr std::string_view kTrue[] = {"1", "true", "yes", "on", "y"};
  static constexpr std::string_view kFalse[] = {"0", "false", "no", "off", "n"};
  bool could_grow = false;
  for (int truth = 0; truth < 2; ++truth) {
    for (auto word : truth != 0 ? kTrue : kFalse) {
      Match m = match_word(s, word);
      if (m == Match::whole) return std::optional<std::string>(pack(leaf, truth != 0 ? 1 : 0));
      could_grow = could_grow || m == Match::prefix;
    }
  }
  if (could_grow && !ended) return kIncomplete;
  bool numeric = std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  return fail(numeric ? std::errc::result_out_of_range : std::errc::invalid_argument);
}

Parsed parse_chars(const Leaf& leaf, std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.size() + 1 > leaf.size) return fail(std::errc::file_too_large);
  std::string out(leaf.size, '\0');
  std::memcpy(out.data(), text.data(), text.size());
  return std::optional<std::string>(std::move(out));
}

}  // namespace

std::uint64_t bit_mask(const Leaf& leaf) {
  unsigned bits = value_bits(leaf);
  std::uint64_t ones = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  return ones << leaf.bit_offset;
}

std::string format_value(const Schema& schema, const Leaf& leaf, std::string_view bytes) {
  std::string text;
  switch (leaf.type) {
    case Type::f32:
      text = format_float<float>(bytes);
      break;
    case Type::f64:
      text = format_float<double>(bytes);
      break;
    case Type::boolean:
      text = unpack(leaf, bytes) != 0 ? "1" : "0";
      break;
    case Type::chars:
      text.assign(bytes.substr(0, bytes.find('\0')));
      break;
    default:
      text = format_integer(schema, leaf, unpack(leaf, bytes));
      break;
  }
  text.push_back('\n');
  return text;
}

Result<std::optional<std::string>> parse_value(const Schema& schema, const Leaf& leaf,
                                               std::string_view text) {
  if (text.size() > kMaxTextBytes) return fail(std::errc::file_too_large);
  if (leaf.type == Type::chars) return parse_chars(leaf, text);
  auto newline = text.find('\n');
  bool ended = newline != std::string_view::npos;
  if (ended && newline != text.size() - 1) return fail(std::errc::invalid_argument);
  std::string_view s = trim(ended ? text.substr(0, newline) : text);
  if (s.empty()) return ended ? Parsed(fail(std::errc::invalid_argument)) : kIncomplete;
  switch (leaf.type) {
    case Type::f32:
      return parse_float<float>(leaf, s, ended);
    case Type::f64:
      return parse_float<double>(leaf, s, ended);
    case Type::boolean:
      return parse_bool(leaf, s, ended);
    default:
      return parse_integer(schema, leaf, s, ended);
  }
}

}  // namespace fieldfs
