// SPDX-License-Identifier: MIT
// .json: every field as one JSON object. Each value goes through the field files' own codec
// (format_value out, parse_value in), so the JSON view has the same rules as the files. Choices
// JSON forces on us:
// - char[N] bytes that are not UTF-8 render as U+FFFD (JSON text must be Unicode), so such a
//   string does not round-trip byte for byte; a string written back may not contain NUL.
// - NaN and the infinities are not JSON numbers: they render as the strings "nan", "-nan",
//   "inf", "-inf", and a float field accepts exactly those strings back. -0 renders as -0.0,
//   since the number -0 parses as the integer 0 and would lose its sign.
// - An array must be written whole (exactly N elements, else EINVAL); `null` anywhere leaves that
//   field as it is, so [null, 7] sets only the second element. Objects may name any subset.
// - A const field may appear if its value is unchanged (so a rendered document stores back);
//   another value is EACCES.
// - Duplicate names are stored in document order (the last one wins), as nlohmann's DOM does.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/codec.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {

using Json = nlohmann::json;

void append_string(std::string& out, std::string_view s) {
  auto plain = [](char c) { return c >= ' ' && c <= '~' && c != '"' && c != '\\'; };
  if (std::all_of(s.begin(), s.end(), plain)) {  // field names, most strings: no copy
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_word(std::string_view text) {
  return !text.empty() && (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_');
}

void append_float(std::string& out, std::string_view text) {
  if (text.find_first_of("ni") != std::string_view::npos) return append_string(out, text);
  out += text;
  if (text == "-0") out += ".0";
}

void append_leaf(std::string& out, const Schema& schema, const Leaf& leaf, std::string_view bytes) {
  std::string text = format_value(schema, leaf, bytes);
  text.pop_back();
  switch (leaf.type) {
    case Type::chars:
      return append_string(out, text);
    case Type::boolean:
      out += text == "0" ? "false" : "true";
      return;
    case Type::f32:
    case Type::f64:
      return append_float(out, text);
    default:
      if (is_word(text)) return append_string(out, text);  // an enumerator's name
      out += text;
      return;
  }
}

/// Formats node `index` from the image: every value from the same copy of the struct.
Result<void> append_node(std::string& out, const Schema& schema, std::string_view image,
                         std::uint32_t index) {
  const Node& n = schema.node(index);
  if (!n.is_dir) {
    if (n.leaf.size > image.size() || n.leaf.offset > image.size() - n.leaf.size) {
      return fail(std::errc::io_error);  // a field past the struct's end: the segment ends first
    }
    append_leaf(out, schema, n.leaf, image.substr(n.leaf.offset, n.leaf.size));
    return {};
  }
  bool array = is_array_dir(schema, index);
  out += array ? '[' : '{';
  std::string_view separator;
  for (auto child : n.children) {
    out += separator;
    separator = ", ";
    if (!array) {
      append_string(out, schema.node(child).name);
      out += ": ";
    }
    if (auto ok = append_node(out, schema, image, child); !ok) return ok;
  }
  out += array ? ']' : '}';
  return {};
}

template <typename Int>
std::string decimal(Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

bool is_array_dir(const Schema& schema, std::uint32_t node) {
  const Node& n = schema.node(node);
  if (!n.is_dir || n.children.empty()) return false;
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    if (schema.node(n.children[i]).name != decimal(i)) return false;
  }
  return true;
}

Result<std::string> render_json(const Schema& schema, const Segment& segment) {
  auto image = render_raw(schema, segment);
  if (!image) return image;
  return render_json(schema, std::string_view(*image));
}

Result<std::string> render_json(const Schema& schema, std::string_view image) {
  std::string out;
  if (auto ok = append_node(out, schema, image, 0); !ok) return Error{ok.error()};
  out += '\n';
  return out;
}

}  // namespace fieldfs
