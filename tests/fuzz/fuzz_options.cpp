// SPDX-License-Identifier: MIT
// parse_options on an argv split from the input at NUL bytes (argv[0] excluded, as main passes
// it). Invariants: no crash; an error is one line; accepted values are in range; the options
// passed on to libfuse, joined into one -o list, parse back to the same items.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/options.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  while (!input.empty()) {
    auto nul = input.find('\0');
    args.emplace_back(input.substr(0, nul));
    input = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  }

  ParsedOptions parsed = parse_options(args);
  const std::string& error = parsed.error;
  if (!error.empty()) {
    FUZZ_CHECK(error.find('\n') == std::string::npos, fuzz::escaped(error));
    return 0;
  }
  const Options& o = parsed.options;
  FUZZ_CHECK(o.mode <= 07777, std::to_string(o.mode));
  FUZZ_CHECK(o.poll_ms >= 1 && o.poll_ms <= 60000, std::to_string(o.poll_ms));
  FUZZ_CHECK(o.threads <= 64, std::to_string(o.threads));
  FUZZ_CHECK(o.max_read >= 4096, std::to_string(o.max_read));
  FUZZ_CHECK(!o.debug || o.foreground, "-d implies -f");
  if (o.help || o.version) return 0;  // parsing stopped there: no later check has run
  FUZZ_CHECK(!o.single_thread || o.threads <= 1, "-s with threads=" + std::to_string(o.threads));
  std::string joined = join_options(o.fuse_options);
  auto again = parse_options({"a", "b", "-o", joined});
  FUZZ_CHECK(again.error.empty() && again.options.fuse_options == o.fuse_options,
             fuzz::escaped(joined));
  return 0;
}
