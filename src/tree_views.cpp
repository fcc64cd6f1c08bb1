// SPDX-License-Identifier: MIT
// The hidden views at the root: .raw (the struct's bytes), .json (all fields), .schema (the
// layout). They are nodes numbered after the schema's, so lookups stay an index.
#include "fieldfs/tree.hpp"
#include "fieldfs/views.hpp"

namespace fieldfs {

namespace {

const std::string kViewNames[kViewCount] = {".raw", ".json", ".schema"};

/// Most text a .json write may collect: far more than any struct of SPEC §7's 1 MiB renders to.
constexpr std::size_t kMaxJsonBytes = 64U << 20;

/// Whether `text` holds a whole JSON value: its brackets balance outside strings. Not a parser
/// (store_json parses); it only tells a write that ended mid-document from one that ended it.
bool json_complete(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool opened = false;
  for (char c : text) {
    if (in_string) {
      escaped = !escaped && c == '\\';
      in_string = escaped || c != '"';
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth, opened = true;
    if (c == '}' || c == ']') --depth;
  }
  return opened && depth <= 0 && !in_string;
}

}  // namespace

std::optional<View> Tree::view_of(std::uint32_t node) const {
  if (node < schema_.node_count()) return std::nullopt;
  return static_cast<View>(node - schema_.node_count());
}

bool Tree::is_dir(std::uint32_t node) const { return !view_of(node) && schema_.node(node).is_dir; }

const std::string& Tree::name(std::uint32_t node) const {
  auto view = view_of(node);
  return view ? kViewNames[static_cast<std::uint32_t>(*view)] : schema_.node(node).name;
}

std::uint32_t Tree::entry_count(std::uint32_t dir) const {
  auto children = static_cast<std::uint32_t>(schema_.node(dir).children.size());
  return dir == 0 ? children + kViewCount : children;
}

std::uint32_t Tree::entry(std::uint32_t dir, std::uint32_t index) const {
  const auto& children = schema_.node(dir).children;
  if (index < children.size()) return children[index];
  return schema_.node_count() + index - static_cast<std::uint32_t>(children.size());
}

Result<std::string> Tree::render_view(View view) const {
  switch (view) {
    case View::raw:
      return render_raw(schema_, segment_);
    case View::json:
      return render_json(schema_, segment_);
    case View::schema:
      return schema_text_;
  }
  return fail(std::errc::invalid_argument);
}

Result<void> Tree::write_view(OpenFile& file, View view, std::uint64_t offset,
                              std::string_view data) {
  if (view == View::raw) {
    if (auto ok = file.bulk.write(offset, data, schema_.size()); !ok) {
      return fail(ok.error() == std::errc::file_too_large ? std::errc::invalid_argument
                                                          : ok.error());
    }
    if (file.bulk.text().size() < schema_.size()) return {};  // more to come
    auto stored = store_raw(schema_, segment_, file.bulk.text());
    file.bulk.clear();
    return stored;
  }
  if (auto ok = file.bulk.write(offset, data, kMaxJsonBytes); !ok) return ok;
  if (!json_complete(file.bulk.text())) return {};
  auto stored = store_json(schema_, segment_, file.bulk.text());
  file.bulk.clear();
  return stored;
}

}  // namespace fieldfs
