// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"

namespace fieldfs {

/// Bytes a read is taken from, or the text it returns: shared by every open file that reads the
/// same, freed with the last of them.
using Sample = std::shared_ptr<const std::string>;

/// Most bytes the samples of all open files may hold together: far above one struct of SPEC §7's
/// 1 MiB and its .json, far below what one user's open files could otherwise pin.
inline constexpr std::size_t kSampleBudget = 64U << 20;

/// Every sample the daemon holds, counted against one budget, and the last image of the struct
/// and its .json rendering, handed to every open file that reads the same bytes.
class SampleStore {
 public:
  explicit SampleStore(std::size_t budget = kSampleBudget);

  /// `bytes` as a sample, counted until its last holder drops it. ENOMEM: the samples held now
  /// and these would exceed the budget (nothing is kept).
  Result<Sample> hold(std::string bytes);
  /// The struct's image as a sample: the last one if its bytes are equal. ENOMEM.
  Result<Sample> image(std::string bytes);
  /// The text `render` makes of `image`, made once per image (the last one kept). ENOMEM, or
  /// render's error.
  Result<Sample> rendering(const Sample& image,
                           const std::function<Result<std::string>(std::string_view)>& render);
  /// Bytes held by all samples now.
  std::size_t held() const { return held_->load(std::memory_order_relaxed); }

 private:
  /// Shared with each sample's deleter: samples may outlive the store.
  std::shared_ptr<std::atomic<std::size_t>> held_;
  std::size_t budget_;
  std::mutex mutex_;
  Sample image_;          ///< the last image taken
  Sample rendered_from_;  ///< the image rendered_ was made of
  Sample rendered_;
};

}  // namespace fieldfs
