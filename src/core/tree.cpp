// SPDX-License-Identifier: MIT
#include "core/tree.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <ctime>

#include "core/codec.hpp"
#include "core/views.hpp"

namespace fieldfs {

namespace {
constexpr std::uint32_t kBlock = 4096;
}

Ownership Ownership::of_process() { return {getuid(), getgid(), 022}; }

namespace {
const Leaf* counter_leaf(const Schema& schema, const Consistency& c) {
  return c.counter ? &schema.node(*c.counter).leaf : nullptr;
}
}  // namespace

Tree::Tree(const Schema& schema, Segment& segment, bool read_only, Ownership owner,
           const Consistency& consistency)
    : schema_(schema),
      segment_(segment),
      read_only_(read_only),
      owner_(owner),
      schema_text_(layout_text(schema)),
      json_size_(std::max<std::size_t>(kBlock, json_bound(schema))),
      json_limit_(json_write_bound(schema)),
      schema_sample_(std::make_shared<const std::string>(schema_text_)),
      sections_(segment, counter_leaf(schema, consistency), consistency.bound) {
  clock_gettime(CLOCK_REALTIME, &start_);
}

Result<std::uint32_t> Tree::node_of(std::uint64_t ino) const {
  if (ino == 0 || ino > node_total()) return fail(std::errc::no_such_file_or_directory);
  return static_cast<std::uint32_t>(ino - 1);
}

Result<std::uint64_t> Tree::lookup(std::uint64_t parent, std::string_view name) const {
  auto dir = node_of(parent);
  if (!dir) return Error{dir.error()};
  if (!is_dir(*dir)) return fail(std::errc::not_a_directory);
  auto child = schema_.find(*dir, name);
  if (child) return std::uint64_t{*child} + 1;
  for (std::uint32_t v = 0; *dir == 0 && v < view_count(); ++v) {
    if (this->name(schema_.node_count() + v) == name)
      return std::uint64_t{schema_.node_count()} + v + 1;
  }
  return fail(std::errc::no_such_file_or_directory);
}

struct stat Tree::attributes(std::uint32_t node) const {
  struct stat st {};
  st.st_ino = node + 1;
  st.st_uid = owner_.uid;
  st.st_gid = owner_.gid;
  st.st_atim = st.st_mtim = st.st_ctim = start_;
  st.st_blksize = kBlock;
  st.st_size = kBlock;
  if (is_dir(node)) {
    st.st_mode = S_IFDIR | (0777 & ~owner_.umask);
    st.st_nlink = 2;
    for (auto c : schema_.node(node).children) st.st_nlink += schema_.node(c).is_dir ? 1U : 0U;
    return st;
  }
  st.st_nlink = 1;
  auto view = view_of(node);
  st.st_mode = S_IFREG | ((!read_only_ && writable(node) ? 0666 : 0444) & ~owner_.umask);
  std::size_t size = view == View::status   ? kBlock
                     : view == View::raw    ? schema_.size()
                     : view == View::schema ? schema_text_.size()
                     : view == View::json   ? json_size_
                                            : text_bound(schema_, schema_.node(node).leaf);
  st.st_size = static_cast<off_t>(
      view == View::raw || view == View::schema ? size : std::max<std::size_t>(kBlock, size));
  return st;
}

struct statvfs Tree::statistics() const {
  struct statvfs sv {};
  sv.f_bsize = sv.f_frsize = kBlock;
  sv.f_blocks = (schema_.size() + kBlock - 1) / kBlock;
  sv.f_files = schema_.node_count();
  sv.f_namemax = 255;
  return sv;
}

Result<void> Tree::check_open(std::uint32_t node, int flags) const {
  if (is_dir(node)) return fail(std::errc::is_a_directory);
  if ((flags & O_ACCMODE) == O_RDONLY) return {};
  if (read_only_) return fail(std::errc::read_only_file_system);
  if (!writable(node)) return fail(std::errc::permission_denied);
  return {};
}

bool Tree::writable(std::uint32_t node) const {
  if (auto view = view_of(node)) return view == View::raw || view == View::json;
  const Leaf& leaf = schema_.node(node).leaf;
  const Leaf* counter = sections_.counter();
  return !leaf.is_const && (counter == nullptr || counter->offset != leaf.offset);
}

OpenFile* Tree::open_file(std::uint32_t node) {
  auto file = std::make_unique<OpenFile>();
  file->node = node;
  OpenFile* raw = file.get();
  std::lock_guard lock(files_mutex_);
  files_.emplace(raw, std::move(file));
  return raw;
}

void Tree::close_file(OpenFile* file) {
  std::lock_guard lock(files_mutex_);
  files_.erase(file);
}

Result<void> Tree::check_truncate(std::uint32_t node, std::uint64_t size) const {
  if (auto ok = check_open(node, O_WRONLY); !ok) return ok;
  if (size != 0) return fail(std::errc::invalid_argument);
  return {};
}

Result<Sample> Tree::current_bytes(std::uint32_t node) const {
  auto view = view_of(node);
  if (view == View::schema) return schema_sample_;
  if (view == View::status) return samples_.hold(status_());
  Result<std::string> bytes = fail(std::errc::io_error);
  auto read = sections_.read([&]() -> Result<void> {
    bytes = view ? render_raw(schema_, segment_) : segment_.load(schema_.node(node).leaf);
    return bytes ? Result<void>{} : Error{bytes.error()};
  });
  if (!read) return Error{read.error()};
  return view ? samples_.image(std::move(*bytes)) : samples_.hold(std::move(*bytes));
}

Result<Sample> Tree::text_of(std::uint32_t node, const Sample& basis) const {
  auto view = view_of(node);
  if (view == View::raw || view == View::schema || view == View::status) return basis;
  if (view) {
    return samples_.rendering(
        basis, [this](std::string_view image) { return render_json(schema_, image); });
  }
  return samples_.hold(format_value(schema_, schema_.node(node).leaf, *basis));
}

bool Tree::unchanged(std::uint32_t node, const std::string& basis) const {
  auto view = view_of(node);
  if (view == View::schema) return true;
  if (view == View::status) return status_() == basis;
  bool same = false;
  auto read = sections_.read([&]() -> Result<void> {
    auto now = segment_.holds_bytes(view ? 0 : schema_.node(node).leaf.offset, basis);
    same = now && *now;
    return {};
  });
  return read && same;
}

bool Tree::differs(std::uint32_t node, const Sample& then, const Sample& now) const {
  if (then == now || *then == *now) return false;
  auto view = view_of(node);
  if (view == View::raw || view == View::status) return true;
  if (view == View::json) {
    auto a = render_json(schema_, std::string_view(*then));
    auto b = text_of(node, now);
    return !a || !b || *a != **b;
  }
  const Leaf& leaf = schema_.node(node).leaf;
  return format_value(schema_, leaf, *then) != format_value(schema_, leaf, *now);
}

Result<std::string> Tree::read(OpenFile& file, std::uint64_t offset, std::size_t size) const {
  if (offset == 0 || !file.basis) {
    file.sample.reset();  // before the new sample is counted against the budget
    file.basis.reset();
    auto basis = current_bytes(file.node);
    if (!basis) return Error{basis.error()};
    file.basis = std::move(*basis);
    file.sample_size = SIZE_MAX;
  }
  if (!file.sample && offset < file.sample_size) {
    auto text = text_of(file.node, file.basis);
    if (!text) return Error{text.error()};
    file.sample = std::move(*text);
    file.sample_size = file.sample->size();
  }
  if (!file.sample || offset >= file.sample->size()) return std::string();
  std::string part = file.sample->substr(offset, size);
  if (offset + part.size() >= file.sample->size()) file.sample.reset();  // read to its end
  return part;
}

Result<void> Tree::write(OpenFile& file, std::uint64_t offset, std::string_view data) {
  if (auto view = view_of(file.node)) return write_view(file, *view, offset, data);
  const Leaf& leaf = schema_.node(file.node).leaf;
  auto value = file.writer.write(schema_, leaf, offset, data);
  if (!value) return Error{value.error()};
  if (!value->has_value()) return {};
  if (writes_ != nullptr) return writes_->commit({FieldStore{&leaf, **value}}, std::nullopt);
  // A field before a shrunk segment's end is still served (SPEC §2): no whole-struct check.
  return sections_.write([&] { return segment_.store(leaf, **value); });
}

Result<void> Tree::commit(const std::vector<FieldStore>& stores,
                          std::optional<std::uint64_t> expected) {
  if (writes_ != nullptr) return writes_->commit(stores, expected);
  return sections_.write([&] { return store_fields(schema_, segment_, stores); }, expected);
}

Result<void> Tree::flush(const OpenFile& file) const {
  auto view = view_of(file.node);
  if (view == View::raw) return file.raw.flush();
  if (view == View::json) return file.json.flush();
  return file.writer.flush();
}

}  // namespace fieldfs
