// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"

namespace fieldfs {

/// What one open file has written so far, turned into values by SPEC §5's rules: a write at
/// offset 0, at an offset other than the end of what was collected, or after a newline ended
/// the last value starts a new value; a write at that end appends (dd bs=1, split writes).
class WriteCollector {
 public:
  /// Takes a write; returns the bytes to store when the text collected so far is a value, or
  /// nullopt while it can still become one. EINVAL, ERANGE, EFBIG as parse_value; after an
  /// error nothing is kept and the next write starts afresh.
  Result<std::optional<std::string>> write(const Schema& schema, const Leaf& leaf,
                                           std::uint64_t offset, std::string_view data);

  /// At close: EINVAL when text was left that never became a value. Resets either way.
  Result<void> finish();

 private:
  void reset();

  std::string text_;
  std::uint64_t end_ = 0;
  bool pending_ = false;
};

/// What one open file of a whole-struct view (.raw, .json) has written: a write at offset 0
/// starts afresh, a write at the end of what was collected appends, any other offset is EINVAL.
class BulkCollector {
 public:
  /// EINVAL: a write at another offset; EFBIG: more than `limit` bytes. Nothing is kept after
  /// an error.
  Result<void> write(std::uint64_t offset, std::string_view data, std::size_t limit);
  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  void clear() { text_.clear(); }

 private:
  std::string text_;
};

}  // namespace fieldfs
