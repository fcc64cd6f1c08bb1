// SPDX-License-Identifier: MIT
// Samples are what an open file reads from (SPEC §4: a read at offset 0 samples afresh, later
// offsets continue). Kept per open file they made memory grow with every open; kept here they
// are shared whenever their bytes are equal, and all of them together stay within one budget, so
// no number of open files can take the daemon's memory.
#include "core/samples.hpp"

namespace fieldfs {

SampleStore::SampleStore(std::size_t budget)
    : held_(std::make_shared<std::atomic<std::size_t>>(0)), budget_(budget) {}

Result<Sample> SampleStore::hold(std::string bytes) {
  std::size_t size = bytes.size();
  if (held_->fetch_add(size) + size > budget_) {
    held_->fetch_sub(size);
    return fail(std::errc::not_enough_memory);
  }
  auto counter = held_;
  auto* kept = new std::string(std::move(bytes));
  return Sample(kept, [counter, size](const std::string* s) {
    counter->fetch_sub(size);
    delete s;
  });
}

Result<Sample> SampleStore::image(std::string bytes) {
  {
    std::lock_guard lock(mutex_);
    if (image_ && *image_ == bytes) return image_;
  }
  auto kept = hold(std::move(bytes));
  if (!kept) return kept;
  std::lock_guard lock(mutex_);
  image_ = *kept;
  return kept;
}

Result<Sample> SampleStore::rendering(
    const Sample& image, const std::function<Result<std::string>(std::string_view)>& render) {
  {
    std::lock_guard lock(mutex_);
    if (rendered_from_ == image && rendered_) return rendered_;
  }
  auto text = render(*image);  // outside the lock: other reads need not wait for it
  if (!text) return Error{text.error()};
  auto kept = hold(std::move(*text));
  if (!kept) return kept;
  std::lock_guard lock(mutex_);
  rendered_from_ = image;
  rendered_ = *kept;
  return kept;
}

}  // namespace fieldfs
