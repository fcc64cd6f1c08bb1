// SPDX-License-Identifier: MIT
// .json writes through the Tree with a sequence counter (-o seq=, SPEC §8). Input: a byte that
// picks the counter (even: the 8-byte u64, odd: the 4-byte u32), the JSON text, then optionally a
// NUL and the bytes the segment holds first (cycled). nlohmann, not the code under test, says
// whether the document names the counter and with what value. Invariants:
// - a stored document advanced the counter by exactly 2, named the counter's value or did not
//   name it, and changed only writable bits besides the counter;
// - EAGAIN: the counter was odd, or the document named another value; nothing changed;
// - any other failure, or a document still incomplete: nothing changed.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/sections.hpp"
#include "core/tree.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

namespace {

using namespace std::chrono_literals;

Tree& tree_for(bool wide) {
  auto make = [](const char* name) {
    Consistency c;
    c.counter = find_counter(fuzz::schema(), name).node;
    c.bound = 1ms;  // a state with an odd counter costs one bound per input
    return c;
  };
  static Tree narrow(fuzz::schema(), fuzz::segment(), false, Ownership::of_process(), make("u32"));
  static Tree broad(fuzz::schema(), fuzz::segment(), false, Ownership::of_process(), make("u64"));
  return wide ? broad : narrow;
}

std::uint64_t counter_now(const Leaf& c) {
  return counter_value(fuzz::snapshot().substr(c.offset, c.size));
}

/// What the document says of the counter at its top level.
struct Named {
  std::optional<nlohmann::json> value;  ///< the last value given (nlohmann keeps the last)
  int times = 0;                        ///< how many times the key is given
};

Named named(std::string_view text, const std::string& name) {
  Named n;
  auto count = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed == name) n.times++;
    return true;
  };
  auto doc = nlohmann::json::parse(text, count, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains(name)) return Named{};
  n.value = doc[name];
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  bool wide = (data[0] & 1) == 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto nul = input.find('\0');
  std::string_view text = input.substr(0, nul);
  fuzz::fill(nul == std::string_view::npos ? "" : input.substr(nul + 1));

  Tree& tree = tree_for(wide);
  const Leaf& counter = *tree.sections().counter();
  const std::string name = wide ? "u64" : "u32";
  const std::uint64_t mask = wide ? ~std::uint64_t{0} : 0xFFFFFFFFU;
  std::uint64_t before_counter = counter_now(counter);
  std::string before = fuzz::snapshot();

  OpenFile* file = tree.open_file(fuzz::schema().node_count() + 1);  // .json
  auto written = tree.write(*file, 0, text);
  tree.close_file(file);
  std::string after = fuzz::snapshot();
  std::uint64_t after_counter = counter_now(counter);
  auto [given, times] = named(text, name);

  if (!written || after_counter == before_counter) {
    FUZZ_CHECK(after == before,
               "a write that stored nothing changed bytes: " + fuzz::escaped(text));
    if (written || written.error() != std::errc::resource_unavailable_try_again) return 0;
    bool twice = times > 1;  // the counter must equal every value given, nlohmann keeps the last
    bool stale =
        given && given->is_number_unsigned() && given->get<std::uint64_t>() != before_counter;
    FUZZ_CHECK((before_counter & 1) != 0 || stale || twice,
               "EAGAIN without cause: " + fuzz::escaped(text));
    return 0;
  }
  FUZZ_CHECK(after_counter == ((before_counter + 2) & mask), "the counter did not advance by 2");
  FUZZ_CHECK((before_counter & 1) == 0, "stored while the counter was odd");
  FUZZ_CHECK(
      !given || (given->is_number_unsigned() && given->get<std::uint64_t>() == before_counter),
      "stored though it named another counter: " + fuzz::escaped(text));
  const auto& writable = fuzz::writable_bits();
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (i >= counter.offset && i < counter.offset + counter.size) continue;
    auto changed = static_cast<unsigned char>(before[i] ^ after[i]);
    FUZZ_CHECK((changed & ~writable[i]) == 0, "byte " + std::to_string(i));
  }
  return 0;
}
