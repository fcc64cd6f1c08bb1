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

#include "fieldfs/codec.hpp"
#include "fieldfs/views.hpp"

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

/// A field's validated bytes, stored once the whole document has passed.
struct Pending {
  const Leaf* leaf;
  std::string bytes;
};

enum class Kind { number, boolean, string };

/// Follows nlohmann's SAX events against the schema: numbers arrive with their exact text (no
/// detour through double), and deep or huge documents cost no DOM. After the first error it only
/// lets the parser finish, so text that is not JSON is EINVAL whatever else is wrong with it.
class Checker {
 public:
  Checker(const Schema& schema, const Segment& segment) : schema_(schema), segment_(segment) {}

  bool null();
  bool boolean(bool v) { return value(Kind::boolean, v ? "true" : "false"); }
  bool number_integer(Json::number_integer_t v) { return value(Kind::number, decimal(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return value(Kind::number, decimal(v)); }
  bool number_float(Json::number_float_t, const Json::string_t& text) {
    return value(Kind::number, text);
  }
  bool string(Json::string_t& s) { return value(Kind::string, s); }
  bool binary(Json::binary_t&) { return refuse(std::errc::invalid_argument); }
  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool key(Json::string_t& name);
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const Json::exception&) {
    syntax_error_ = true;
    return false;
  }

  /// The stores to make, or the first error in document order.
  Result<std::vector<Pending>> result() &&;

 private:
  struct Frame {
    std::uint32_t node;
    bool array;
    std::uint32_t next;  ///< arrays: index of the next element
  };

  bool refuse(std::errc e) {
    if (!error_) error_ = e;
    return true;
  }
  std::optional<std::uint32_t> target();
  bool open(bool array);
  bool close();
  bool value(Kind kind, const std::string& text);
  bool accepts(const Leaf& leaf, Kind kind, std::string_view text) const;
  bool check_const(const Leaf& leaf, const std::string& bytes);

  const Schema& schema_;
  const Segment& segment_;
  std::vector<Frame> stack_;
  std::uint32_t member_ = 0;  ///< the node the last key named
  std::optional<std::errc> error_;
  bool syntax_error_ = false;
  std::vector<Pending> pending_;
};

/// The node the next value is for; nullopt (error recorded) past the end of an array.
std::optional<std::uint32_t> Checker::target() {
  if (stack_.empty()) return 0;
  Frame& top = stack_.back();
  if (!top.array) return member_;
  const auto& children = schema_.node(top.node).children;
  if (top.next >= children.size()) {
    refuse(std::errc::invalid_argument);
    return std::nullopt;
  }
  return children[top.next++];
}

bool Checker::null() {
  if (error_) return true;
  if (stack_.empty()) return refuse(std::errc::invalid_argument);
  target();
  return true;
}

bool Checker::key(Json::string_t& name) {
  if (error_) return true;
  auto child = schema_.find(stack_.back().node, name);
  if (!child) return refuse(std::errc::invalid_argument);
  member_ = *child;
  return true;
}

bool Checker::open(bool array) {
  if (error_) return true;
  auto node = target();
  if (!node) return true;
  if (!schema_.node(*node).is_dir || is_array_dir(schema_, *node) != array) {
    return refuse(std::errc::invalid_argument);
  }
  stack_.push_back(Frame{*node, array, 0});
  return true;
}

bool Checker::close() {
  if (error_) return true;
  Frame top = stack_.back();
  stack_.pop_back();
  if (top.array && top.next != schema_.node(top.node).children.size()) {
    return refuse(std::errc::invalid_argument);
  }
  return true;
}

bool Checker::accepts(const Leaf& leaf, Kind kind, std::string_view text) const {
  if (kind == Kind::boolean) return leaf.type == Type::boolean;
  if (kind == Kind::number) return leaf.type != Type::chars;
  if (leaf.type == Type::chars) return text.find('\0') == std::string_view::npos;
  if (leaf.type == Type::f32 || leaf.type == Type::f64) {
    return text == "nan" || text == "-nan" || text == "inf" || text == "-inf";
  }
  if (leaf.enum_index < 0) return false;
  for (const auto& e : schema_.enumerators(leaf.enum_index)) {
    if (e.name == text) return true;
  }
  return false;
}

bool Checker::value(Kind kind, const std::string& text) {
  if (error_) return true;
  auto node = target();
  if (!node) return true;
  const Node& n = schema_.node(*node);
  if (n.is_dir || !accepts(n.leaf, kind, text)) return refuse(std::errc::invalid_argument);
  // The newline ends the value, so a prefix ("-", an enum name's start) is EINVAL, not pending.
  auto bytes = parse_value(schema_, n.leaf, text + "\n");
  if (!bytes) return refuse(bytes.error());
  if (!*bytes) return refuse(std::errc::invalid_argument);
  if (n.leaf.is_const) return check_const(n.leaf, **bytes);
  pending_.push_back(Pending{&n.leaf, std::move(**bytes)});
  return true;
}

bool Checker::check_const(const Leaf& leaf, const std::string& bytes) {
  auto now = segment_.load(leaf);
  if (!now) return refuse(now.error());
  // Compared as text: a string's bytes after its NUL, or a NaN's payload, are not its value.
  if (format_value(schema_, leaf, *now) != format_value(schema_, leaf, bytes)) {
    return refuse(std::errc::permission_denied);
  }
  return true;
}

Result<std::vector<Pending>> Checker::result() && {
  if (syntax_error_) return fail(std::errc::invalid_argument);
  if (error_) return fail(*error_);
  return std::move(pending_);
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

Result<void> store_json(const Schema& schema, Segment& segment, std::string_view text) {
  Checker checker(schema, segment);
  try {
    Json::sax_parse(text.begin(), text.end(), &checker);
  } catch (const Json::exception&) {
    return fail(std::errc::invalid_argument);
  }
  auto pending = std::move(checker).result();
  if (!pending) return Error{pending.error()};
  if (auto ok = detail::check_reach(segment, schema.size()); !ok) return ok;
  for (const auto& p : *pending) {
    if (auto ok = segment.store(*p.leaf, p.bytes); !ok) return ok;
  }
  return {};
}

}  // namespace fieldfs
