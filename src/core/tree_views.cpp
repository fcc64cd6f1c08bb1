// SPDX-License-Identifier: MIT
// The hidden views at the root: .raw (the struct's bytes), .json (all fields), .schema (the
// layout). They are nodes numbered after the schema's, so lookups stay an index.
#include <algorithm>

#include "core/tree.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {

const std::string kViewNames[kViewCount] = {".raw", ".json", ".schema", ".etcd"};

}  // namespace

std::optional<View> Tree::view_of(std::uint32_t node) const {
  if (node < schema_.node_count() || node >= node_total()) return std::nullopt;
  return static_cast<View>(node - schema_.node_count());
}

bool Tree::is_dir(std::uint32_t node) const { return !view_of(node) && schema_.node(node).is_dir; }

const std::string& Tree::name(std::uint32_t node) const {
  auto view = view_of(node);
  return view ? kViewNames[static_cast<std::uint32_t>(*view)] : schema_.node(node).name;
}

std::uint32_t Tree::entry_count(std::uint32_t dir) const {
  auto children = static_cast<std::uint32_t>(schema_.node(dir).children.size());
  return dir == 0 ? children + view_count() : children;
}

std::uint32_t Tree::entry(std::uint32_t dir, std::uint32_t index) const {
  const auto& children = schema_.node(dir).children;
  if (index < children.size()) return children[index];
  return schema_.node_count() + index - static_cast<std::uint32_t>(children.size());
}

Result<void> Tree::write_view(OpenFile& file, View view, std::uint64_t offset,
                              std::string_view data) {
  if (view == View::raw) {
    auto whole = file.raw.write(offset, data, schema_.size());
    if (!whole || !*whole) return whole ? Result<void>{} : Error{whole.error()};
    auto stored = store_image(file.raw.text());
    file.raw.done();
    return stored;
  }
  auto judge = file.json.write(offset, data, json_limit_);
  if (!judge || !*judge) return judge ? Result<void>{} : Error{judge.error()};
  auto stores = json_stores(schema_, segment_, file.json.text());
  if (stores && !*stores) {
    file.json.incomplete();
    return {};
  }
  auto stored = stores ? store_document(std::move(**stores)) : Error{stores.error()};
  if (stored) {
    file.json.done();
  } else {
    file.json.reset();
  }
  return stored;
}

Result<void> Tree::store_image(std::string_view image) {
  const Leaf* counter = sections_.counter();
  if (image.size() != schema_.size()) return fail(std::errc::invalid_argument);
  std::optional<std::uint64_t> expected;
  if (counter) expected = counter_value(image.substr(counter->offset, counter->size));
  auto stores = raw_stores(schema_, image, counter);
  if (!stores) return Error{stores.error()};
  return commit(*stores, expected);
}

Result<void> Tree::store_document(std::vector<FieldStore> stores) {
  const Leaf* counter = sections_.counter();
  std::optional<std::uint64_t> expected;
  bool agree = true;  // a document that names the counter twice names one value, or none holds
  auto named = std::remove_if(stores.begin(), stores.end(), [&](const FieldStore& s) {
    if (counter == nullptr || s.leaf->offset != counter->offset) return false;
    auto v = counter_value(s.bytes);
    agree = agree && (!expected || *expected == v);
    expected = v;
    return true;
  });
  stores.erase(named, stores.end());
  if (!agree) return fail(std::errc::resource_unavailable_try_again);
  return commit(stores, expected);
}

}  // namespace fieldfs
