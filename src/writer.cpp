// SPDX-License-Identifier: MIT
#include "fieldfs/writer.hpp"

#include "fieldfs/codec.hpp"

namespace fieldfs {

void WriteCollector::reset() {
  text_.clear();
  end_ = std::numeric_limits<std::uint64_t>::max();
  pending_ = false;
}

Result<std::optional<std::string>> WriteCollector::write(const Schema& schema, const Leaf& leaf,
                                                         std::uint64_t offset,
                                                         std::string_view data) {
  if (offset == 0 || offset != end_ || text_.ends_with('\n')) text_.clear();
  if (text_.size() + data.size() > kMaxTextBytes) {
    reset();
    return fail(std::errc::file_too_large);
  }
  text_.append(data);
  end_ = offset + data.size();
  auto parsed = parse_value(schema, leaf, text_);
  if (!parsed) {
    reset();
    return parsed;
  }
  pending_ = !parsed->has_value();
  return parsed;
}

Result<void> WriteCollector::finish() {
  bool incomplete = pending_;
  reset();
  if (incomplete) return fail(std::errc::invalid_argument);
  return {};
}

Result<void> BulkCollector::write(std::uint64_t offset, std::string_view data, std::size_t limit) {
  if (offset != 0 && offset != text_.size()) {
    text_.clear();
    return fail(std::errc::invalid_argument);
  }
  if (offset == 0) text_.clear();
  if (text_.size() + data.size() > limit) {
    text_.clear();
    return fail(std::errc::file_too_large);
  }
  text_.append(data);
  return {};
}

}  // namespace fieldfs
