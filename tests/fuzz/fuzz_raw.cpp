// SPDX-License-Identifier: MIT
// store_raw and render_raw over a real shm segment. Input: one byte, then the bytes written to
// .raw. The segment first holds those bytes cycled to the struct's size and XORed with the first
// byte, so a store changes something. Invariants: any size but sizeof fails with EINVAL and
// changes nothing; sizeof bytes change exactly the bits of non-const fields to the bits written;
// render_raw gives the segment's bytes, and storing them back changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/views.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Schema& schema = fuzz::schema();
  Segment& segment = fuzz::segment();
  std::string_view written(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string state(written);
  for (char& c : state) c = static_cast<char>(c ^ static_cast<char>(data[0]));
  if (state.empty()) state.assign(1, static_cast<char>(data[0]));
  fuzz::fill(state);
  std::string before = fuzz::snapshot();

  auto stored = store_raw(schema, segment, written);
  if (written.size() != schema.size()) {
    FUZZ_CHECK(!stored && stored.error() == std::errc::invalid_argument,
               std::to_string(written.size()) + " bytes");
    FUZZ_CHECK(fuzz::snapshot() == before, "a failed store_raw changed bytes");
  } else {
    FUZZ_CHECK(stored, "store_raw of sizeof bytes");
    std::string want = before;
    const auto& writable = fuzz::writable_bits();
    for (std::size_t i = 0; i < want.size(); ++i) {
      auto m = writable[i];
      auto old = static_cast<unsigned char>(want[i]);
      want[i] = static_cast<char>((old & ~m) | (static_cast<unsigned char>(written[i]) & m));
    }
    FUZZ_CHECK(fuzz::snapshot() == want,
               fuzz::escaped(fuzz::snapshot()) + " != " + fuzz::escaped(want));
  }

  std::string now = fuzz::snapshot();
  auto rendered = render_raw(schema, segment);
  FUZZ_CHECK(rendered && *rendered == now, "render_raw is not the segment's bytes");
  FUZZ_CHECK(store_raw(schema, segment, *rendered), "store_raw of render_raw");
  FUZZ_CHECK(fuzz::snapshot() == now, "store_raw of render_raw changed bytes");
  return 0;
}
