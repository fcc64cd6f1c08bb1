// SPDX-License-Identifier: MIT
// Upper bounds of what a read can return, from the schema alone: st_size reports them (SPEC §3),
// since tools such as Node's readFileSync and tar read at most st_size bytes. They follow
// format_value and render_json; tests hold them against those renderers on worst-case values.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {

constexpr std::size_t kLongestFloat = 15;   // -1.17549435e-38: 9 digits, sign, point, exponent
constexpr std::size_t kLongestDouble = 24;  // -2.2250738585072014e-308: 17 digits
constexpr std::size_t kQuotedNan = 6;       // "-nan", "-inf" are JSON strings
constexpr std::size_t kWorstByte = 6;       // a control byte renders as \u00XX
constexpr std::size_t kIndentPerLevel = 8;
constexpr std::size_t kWriteSlack = std::size_t{64} << 10;

std::size_t quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

/// The longest decimal an integer field can show: its most negative or its largest value.
std::size_t integer_digits(const Leaf& leaf) {
  unsigned bits = leaf.bit_width != 0 ? leaf.bit_width : leaf.size * 8U;
  bits = std::min(bits, 64U);
  if (is_signed(leaf.type)) {
    auto min = bits >= 64 ? std::numeric_limits<std::int64_t>::min()
                          : -static_cast<std::int64_t>(std::uint64_t{1} << (bits - 1));
    return std::to_string(min).size();
  }
  auto max = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  return std::to_string(max).size();
}

/// Longest enumerator name, quoted (`json`) or as the field file shows it.
std::size_t longest_name(const Schema& schema, const Leaf& leaf, bool json) {
  std::size_t n = 0;
  if (leaf.enum_index < 0) return n;
  for (const auto& e : schema.enumerators(leaf.enum_index)) {
    n = std::max(n, json ? quoted(e.name) : e.name.size());
  }
  return n;
}

std::size_t leaf_json_bound(const Schema& schema, const Leaf& leaf) {
  switch (leaf.type) {
    case Type::chars:
      return 2 + kWorstByte * leaf.size;
    case Type::boolean:
      return 5;  // false
    case Type::f32:
      return std::max(kLongestFloat, kQuotedNan);
    case Type::f64:
      return std::max(kLongestDouble, kQuotedNan);
    default:
      return std::max(integer_digits(leaf), longest_name(schema, leaf, true));
  }
}

}  // namespace

std::size_t text_bound(const Schema& schema, const Leaf& leaf) {
  switch (leaf.type) {
    case Type::chars:
      return leaf.size + 1;  // no NUL among the N bytes: all of them show
    case Type::boolean:
      return 2;
    case Type::f32:
      return kLongestFloat + 1;
    case Type::f64:
      return kLongestDouble + 1;
    default:
      return std::max(integer_digits(leaf), longest_name(schema, leaf, false)) + 1;
  }
}

std::size_t json_bound(const Schema& schema) {
  // Children come after their parents, so one backward pass sums each directory's children.
  std::vector<std::size_t> bound(schema.node_count());
  for (std::uint32_t i = schema.node_count(); i-- > 0;) {
    const Node& n = schema.node(i);
    if (!n.is_dir) {
      bound[i] = leaf_json_bound(schema, n.leaf);
      continue;
    }
    bool array = is_array_dir(schema, i);
    std::size_t sum = 2;  // the brackets
    for (std::size_t k = 0; k < n.children.size(); ++k) {
      std::uint32_t child = n.children[k];
      sum += bound[child] + (k == 0 ? 0 : 2);                  // ", "
      if (!array) sum += quoted(schema.node(child).name) + 2;  // ": "
    }
    bound[i] = sum;
  }
  return bound[0] + 1;  // the final newline
}

std::size_t json_write_bound(const Schema& schema) {
  std::vector<std::size_t> depth(schema.node_count());
  std::size_t slack = kWriteSlack;
  for (std::uint32_t i = 1; i < schema.node_count(); ++i) {
    depth[i] = depth[schema.node(i).parent] + 1;
    slack += 4 + kIndentPerLevel * depth[i];
  }
  return json_bound(schema) + slack;
}

}  // namespace fieldfs
