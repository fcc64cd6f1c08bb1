// SPDX-License-Identifier: MIT
// store_json and render_json over a real shm segment. Input: the JSON text, then optionally a
// NUL and the bytes the segment holds first (cycled to the struct's size; zeros without them).
// Invariants:
// - a failed store_json changes no byte; a successful one changes only the bits of non-const
//   fields (never padding, const fields, or a bit-field's neighbours);
// - render_json of any state stores back without changing what renders; of a canonical state
//   (fuzz::canonicalize: strings valid UTF-8 and NUL-filled, NaNs without payload, bools 0/1)
//   it stores back without changing a byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/views.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

namespace {

void check_only_writable_changed(const std::string& before, const std::string& after) {
  const auto& writable = fuzz::writable_bits();
  for (std::size_t i = 0; i < before.size(); ++i) {
    auto changed = static_cast<unsigned char>(before[i] ^ after[i]);
    FUZZ_CHECK((changed & ~writable[i]) == 0, "byte " + std::to_string(i));
  }
}

/// render_json, then store_json of what it rendered; returns the rendered text.
std::string render_and_store_back(bool canonical_state) {
  const Schema& schema = fuzz::schema();
  Segment& segment = fuzz::segment();
  auto rendered = render_json(schema, segment);
  FUZZ_CHECK(rendered, "render_json");
  FUZZ_CHECK(rendered->ends_with("}\n"), *rendered);
  std::string before = fuzz::snapshot();
  auto stored = store_json(schema, segment, *rendered);
  if (canonical_state) {
    FUZZ_CHECK(stored, "store_json refused its own rendering: " + fuzz::escaped(*rendered));
    FUZZ_CHECK(fuzz::snapshot() == before, "changed by its own rendering: " + *rendered);
  } else if (!stored) {
    FUZZ_CHECK(fuzz::snapshot() == before, "a failed store_json changed bytes");
  } else {
    auto again = render_json(schema, segment);
    FUZZ_CHECK(again && *again == *rendered, *rendered + " became " + *again);
  }
  return std::move(*rendered);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nul = input.find('\0');
  std::string_view text = input.substr(0, nul);
  std::string_view state = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  const Schema& schema = fuzz::schema();
  Segment& segment = fuzz::segment();

  fuzz::fill(state);
  render_and_store_back(false);
  fuzz::fill(state);
  fuzz::canonicalize();
  render_and_store_back(true);

  std::string before = fuzz::snapshot();
  auto stored = store_json(schema, segment, text);
  std::string after = fuzz::snapshot();
  if (!stored) {
    auto e = stored.error();
    FUZZ_CHECK(fuzz::parse_error(e) || e == std::errc::permission_denied, fuzz::escaped(text));
    FUZZ_CHECK(after == before, "a failed store_json changed bytes: " + fuzz::escaped(text));
    return 0;
  }
  check_only_writable_changed(before, after);
  render_and_store_back(false);
  return 0;
}
