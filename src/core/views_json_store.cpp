// SPDX-License-Identifier: MIT
// .json's write side: nlohmann's SAX events checked against the schema (the choices are listed at
// the top of views_json.cpp), and whether text is a whole document, the start of one, or neither,
// as the library reads it.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {

using Json = nlohmann::json;

/// nlohmann's exception id for a number beyond the range of double.
constexpr int kNumberOverflow = 406;
constexpr std::size_t kMaxOverflows = 8;

/// A number the parser stopped at: its ordinal among the document's numbers, where its text starts.
struct Overflow {
  std::size_t ordinal;
  std::size_t at;
  std::string text;
};

enum class Kind { number, boolean, string };

/// Follows nlohmann's SAX events against the schema: numbers arrive with their exact text (no
/// detour through double), and deep or huge documents cost no DOM. After the first error it only
/// lets the parser finish, so text that is not JSON is EINVAL whatever else is wrong with it.
class Checker {
 public:
  Checker(const Schema& schema, const Segment& segment, const std::vector<Overflow>& overflows,
          ConstFields const_fields)
      : schema_(schema), segment_(segment), overflows_(overflows), const_fields_(const_fields) {}

  bool null();
  bool boolean(bool v) { return value(Kind::boolean, v ? "true" : "false"); }
  bool number_integer(Json::number_integer_t v) { return number(std::to_string(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return number(std::to_string(v)); }
  bool number_float(Json::number_float_t, const Json::string_t& text) { return number(text); }
  bool string(Json::string_t& s) { return value(Kind::string, s); }
  bool binary(Json::binary_t&) { return refuse(std::errc::invalid_argument); }
  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool key(Json::string_t& name);
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string& token, const Json::exception& e);

  /// Where the parser stopped at a number beyond double's range, if it did.
  const std::optional<Overflow>& overflow() const { return overflow_; }
  /// The stores to make; nullopt when the parser read `size` bytes as a document cut short (it
  /// ran out of input); else the first error in document order.
  Result<std::optional<std::vector<FieldStore>>> result(std::size_t size) &&;

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
  bool number(const std::string& text);
  bool value(Kind kind, const std::string& text);
  bool accepts(const Leaf& leaf, Kind kind, std::string_view text) const;
  bool check_const(const Leaf& leaf, const std::string& bytes);

  const Schema& schema_;
  const Segment& segment_;
  std::vector<Frame> stack_;
  std::uint32_t member_ = 0;  ///< the node the last key named
  const std::vector<Overflow>& overflows_;
  ConstFields const_fields_;
  std::size_t numbers_ = 0;  ///< number events so far
  std::optional<Overflow> overflow_;
  std::optional<std::errc> error_;
  std::optional<std::size_t> syntax_error_;  ///< bytes the lexer had read at the error
  std::vector<FieldStore> pending_;
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
  if (n.leaf.is_const) {
    return const_fields_ == ConstFields::skip || check_const(n.leaf, **bytes);
  }
  pending_.push_back(FieldStore{&n.leaf, std::move(**bytes)});
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

bool Checker::parse_error(std::size_t position, const std::string& token,
                          const Json::exception& e) {
  if (e.id == kNumberOverflow && position >= token.size()) {
    overflow_ = Overflow{numbers_, position - token.size(), token};
  } else {
    syntax_error_ = position;
  }
  return false;
}

/// A number replaced after an overflow (see json_stores) stands for its original text.
bool Checker::number(const std::string& text) {
  std::size_t ordinal = numbers_++;
  for (const auto& o : overflows_) {
    if (o.ordinal == ordinal) return value(Kind::number, o.text);
  }
  return value(Kind::number, text);
}

Result<std::optional<std::vector<FieldStore>>> Checker::result(std::size_t size) && {
  // The lexer reads one past the end when the input stops short of a token or a document.
  if (syntax_error_ && *syntax_error_ > size) return std::optional<std::vector<FieldStore>>();
  if (syntax_error_ || overflow_) return fail(std::errc::invalid_argument);
  if (error_) return fail(*error_);
  return std::optional<std::vector<FieldStore>>(std::move(pending_));
}

}  // namespace

/// The document's stores, checked: nullopt for a document cut short. nlohmann stops at a number
/// beyond double's range (1e999) before its handler sees it; such a number is replaced by a 0 of
/// the same length and the text parsed again, with the Checker told the number's real text, so it
/// gets the errno a field file gives (ERANGE for a double). Each replacement costs one more
/// parse, so a document with more than kMaxOverflows of them is EINVAL.
Result<std::optional<std::vector<FieldStore>>> json_stores(const Schema& schema,
                                                           const Segment& segment,
                                                           std::string_view text,
                                                           ConstFields const_fields) {
  std::vector<Overflow> overflows;
  std::string copy;
  std::string_view input = text;
  for (;;) {
    Checker checker(schema, segment, overflows, const_fields);
    try {
      Json::sax_parse(input.begin(), input.end(), &checker);
    } catch (const Json::exception&) {
      return fail(std::errc::invalid_argument);
    }
    auto overflow = checker.overflow();
    if (!overflow) return std::move(checker).result(input.size());
    if (overflows.size() == kMaxOverflows || overflow->at > input.size() ||
        input.substr(overflow->at, overflow->text.size()) != overflow->text) {
      return fail(std::errc::invalid_argument);
    }
    if (copy.empty()) copy = text;
    copy.replace(overflow->at, overflow->text.size(),
                 "0" + std::string(overflow->text.size() - 1, ' '));
    input = copy;
    overflows.push_back(*overflow);
  }
}

Result<void> store_fields(const Schema& schema, Segment& segment,
                          const std::vector<FieldStore>& stores) {
  if (auto ok = segment.holds(schema.size()); !ok) return ok;
  for (const auto& s : stores) {
    if (auto ok = segment.store(*s.leaf, s.bytes); !ok) return ok;
  }
  return {};
}

Result<bool> store_json_if_complete(const Schema& schema, Segment& segment, std::string_view text) {
  auto checked = json_stores(schema, segment, text);
  if (!checked) return Error{checked.error()};
  if (!*checked) return false;
  if (auto ok = store_fields(schema, segment, **checked); !ok) return Error{ok.error()};
  return true;
}

Result<void> store_json(const Schema& schema, Segment& segment, std::string_view text) {
  auto stored = store_json_if_complete(schema, segment, text);
  if (!stored) return Error{stored.error()};
  if (!*stored) return fail(std::errc::invalid_argument);
  return {};
}

}  // namespace fieldfs
