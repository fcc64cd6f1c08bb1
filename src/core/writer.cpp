// SPDX-License-Identifier: MIT
#include "core/writer.hpp"

#include "core/codec.hpp"

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

Result<void> WriteCollector::flush() const {
  if (pending_) return fail(std::errc::invalid_argument);
  return {};
}

Result<bool> RawCollector::write(std::uint64_t offset, std::string_view data, std::size_t size) {
  if (offset == 0 || offset != end_) {
    text_.clear();
    done_ = false;
  }
  end_ = offset + data.size();
  if (done_ || text_.size() + data.size() > size) {
    text_.clear();
    done_ = false;
    end_ = std::numeric_limits<std::uint64_t>::max();
    return fail(std::errc::invalid_argument);
  }
  text_.append(data);
  return text_.size() == size;
}

void RawCollector::done() {
  std::string().swap(text_);
  done_ = true;
}

Result<void> RawCollector::flush() const {
  if (!text_.empty() && !done_) return fail(std::errc::invalid_argument);
  return {};
}

Result<bool> JsonCollector::write(std::uint64_t offset, std::string_view data, std::size_t limit) {
  if (offset == 0 || offset != end_) reset();
  end_ = offset + data.size();
  if (text_.size() + data.size() > limit) {
    reset();
    return fail(std::errc::file_too_large);
  }
  auto closes = scan(data);
  if (!closes) {
    reset();
    return closes;
  }
  begun_ = true;
  if (done_) return false;
  text_.append(data);
  return *closes || text_.size() >= 2 * judged_;
}

/// Follows strings and brackets as valid JSON has them; bytes after the outermost bracket closes
/// may only be blanks and one newline. Returns whether `data` closed the outermost bracket.
Result<bool> JsonCollector::scan(std::string_view data) {
  bool closes = false;
  for (char c : data) {
    if (closed_) {
      if (c == '\n' && !newline_) {
        newline_ = true;
      } else if (c != ' ' && c != '\t') {
        return fail(std::errc::invalid_argument);
      }
    } else if (in_string_) {
      in_string_ = escaped_ || c != '"';
      escaped_ = !escaped_ && c == '\\';
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ <= 0) {
      closed_ = closes = true;
    }
  }
  return closes;
}

void JsonCollector::done() {
  std::string().swap(text_);
  done_ = true;
}

void JsonCollector::reset() { *this = JsonCollector(); }

Result<void> JsonCollector::flush() const {
  if (begun_ && !done_) return fail(std::errc::invalid_argument);
  return {};
}

}  // namespace fieldfs
