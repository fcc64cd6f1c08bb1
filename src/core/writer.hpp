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

  /// At each close() of a descriptor of this open file (FUSE FLUSH, which a forked child's exit
  /// sends too): EINVAL while text is pending that never became a value. Keeps collecting, so
  /// a later write of another copy can still complete it; the open file's end discards it.
  Result<void> flush() const;

 private:
  void reset();

  std::string text_;
  std::uint64_t end_ = 0;
  bool pending_ = false;
};

/// What one open file of .raw has written: exactly `size` bytes make a struct image. A write at
/// offset 0 or at any offset other than the end of what was collected starts a new image (so
/// `cat img >> .raw` works); a write at that end appends, and past a whole image is EINVAL.
class RawCollector {
 public:
  /// Returns true when text() holds a whole image, to be stored now. EINVAL: more than `size`
  /// bytes. Nothing is kept after an error.
  Result<bool> write(std::uint64_t offset, std::string_view data, std::size_t size);
  const std::string& text() const { return text_; }
  /// The image was stored (or refused): keep only where it ended, so more bytes are EINVAL.
  void done();
  /// EINVAL while part of an image is pending; keeps it (see WriteCollector::flush).
  Result<void> flush() const;

 private:
  std::string text_;
  std::uint64_t end_ = std::numeric_limits<std::uint64_t>::max();
  bool done_ = false;
};

/// What one open file of .json has written (SPEC §5). Offsets as RawCollector. The JSON library
/// judges whether the text is a document; a byte scan only picks the writes worth judging, so the
/// cost stays linear in what is written: a write whose bytes close the outermost bracket (outside
/// strings), and a write that doubles the text since the last judgement (so text that is not
/// JSON is refused early). After the outermost bracket closes, only blanks and one newline may
/// follow, in that write or later ones; anything else is EINVAL.
class JsonCollector {
 public:
  /// Returns true when text() should be judged now. EFBIG: more than `limit` bytes; EINVAL:
  /// something other than blanks and one newline after the document. Nothing is kept after an
  /// error.
  Result<bool> write(std::uint64_t offset, std::string_view data, std::size_t limit);
  const std::string& text() const { return text_; }
  /// The library read text() as the start of a document: collect on.
  void incomplete() { judged_ = text_.size(); }
  /// The library read text() as a whole document (stored or refused): drop the text; later
  /// writes at its end may add only what may follow a document.
  void done();
  /// An error: forget everything; the next write starts afresh.
  void reset();
  /// EINVAL while a document is begun and not done; keeps it (see WriteCollector::flush).
  Result<void> flush() const;

 private:
  Result<bool> scan(std::string_view data);

  std::string text_;
  std::uint64_t end_ = std::numeric_limits<std::uint64_t>::max();
  std::size_t judged_ = 0;  ///< text size at the last judgement
  bool begun_ = false;
  bool done_ = false;
  int depth_ = 0;  ///< brackets open outside strings
  bool in_string_ = false;
  bool escaped_ = false;
  bool closed_ = false;   ///< the outermost bracket has closed
  bool newline_ = false;  ///< the one newline after the document was seen
};

}  // namespace fieldfs
