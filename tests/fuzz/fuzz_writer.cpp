// SPDX-License-Identifier: MIT
// WriteCollector against SPEC §5's rules, kept here as a model: a write at offset 0, at an offset
// other than the end of what was collected, or after text that a newline ended starts a new
// value; after an error the next write starts afresh; close() fails while text is pending.
// Input: one byte that picks the leaf, then operations, each an opcode byte, and for writes a
// length byte and that many bytes of data:
//   op & 3 == 0: write at offset 0      op & 3 == 1: write at the end (append)
//   op & 3 == 2: write elsewhere (near the end, or near 2^64 when op & 0x20)
//   op & 3 == 3: flush(), as each close() of a copy of the descriptor does (reports, keeps)
// op & 0x40 multiplies the length by 17, so writes can pass the 4096-byte limit.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "fieldfs/codec.hpp"
#include "fieldfs/writer.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

namespace {

constexpr std::uint64_t kNowhere = std::numeric_limits<std::uint64_t>::max();

class Model {
 public:
  Model(const Schema& schema, const Leaf& leaf) : schema_(schema), leaf_(leaf) {}

  Result<std::optional<std::string>> write(std::uint64_t offset, std::string_view data) {
    bool fresh = offset == 0 || offset != end_ || text_.ends_with('\n');
    if (fresh) text_.clear();
    if (text_.size() + data.size() > kMaxTextBytes) {
      forget();
      return fail(std::errc::file_too_large);
    }
    text_.append(data);
    end_ = offset + data.size();
    auto parsed = parse_value(schema_, leaf_, text_);
    if (!parsed) {
      forget();
    } else {
      pending_ = !parsed->has_value();
    }
    return parsed;
  }

  bool flush() const { return !pending_; }

  std::uint64_t end() const { return end_; }

 private:
  void forget() {
    text_.clear();
    end_ = kNowhere;
    pending_ = false;
  }

  const Schema& schema_;
  const Leaf& leaf_;
  std::string text_;
  std::uint64_t end_ = 0;
  bool pending_ = false;
};

struct Input {
  const std::uint8_t* at;
  const std::uint8_t* end;
  bool empty() const { return at == end; }
  std::uint8_t byte() { return at == end ? 0 : *at++; }
  std::string_view take(std::size_t n) {
    n = std::min<std::size_t>(n, static_cast<std::size_t>(end - at));
    std::string_view out(reinterpret_cast<const char*>(at), n);
    at += n;
    return out;
  }
};

std::uint64_t pick_offset(std::uint8_t op, std::uint64_t end, Input& in) {
  switch (op & 3) {
    case 0:
      return 0;
    case 1:
      return end;
    default: {
      auto delta = static_cast<std::int8_t>(in.byte());
      std::uint64_t base = (op & 0x20) != 0 ? kNowhere : (end == kNowhere ? 0 : end);
      return base + static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
    }
  }
}

void check_same(const Result<std::optional<std::string>>& got,
                const Result<std::optional<std::string>>& want, std::string_view data) {
  FUZZ_CHECK(got.has_value() == want.has_value(), fuzz::escaped(data));
  if (!got) {
    FUZZ_CHECK(got.error() == want.error(), fuzz::escaped(data));
    FUZZ_CHECK(fuzz::parse_error(got.error()), fuzz::escaped(data));
    return;
  }
  FUZZ_CHECK(got->has_value() == want->has_value(), fuzz::escaped(data));
  if (*got) FUZZ_CHECK(**got == **want, fuzz::escaped(data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Schema& schema = fuzz::schema();
  const Leaf& leaf = *fuzz::leaves()[data[0] % fuzz::leaves().size()];
  Input in{data + 1, data + size};
  WriteCollector collector;
  Model model(schema, leaf);
  while (!in.empty()) {
    std::uint8_t op = in.byte();
    if ((op & 3) == 3) {
      bool ok = static_cast<bool>(collector.flush());
      FUZZ_CHECK(ok == model.flush(), "flush");
      continue;
    }
    std::uint64_t offset = pick_offset(op, model.end(), in);
    std::size_t length = in.byte() * ((op & 0x40) != 0 ? 17U : 1U);
    std::string_view chunk = in.take(length);
    auto got = collector.write(schema, leaf, offset, chunk);
    check_same(got, model.write(offset, chunk), chunk);
    if (got && *got) fuzz::check_value(schema, leaf, **got);
  }
  bool ok = static_cast<bool>(collector.flush());
  FUZZ_CHECK(ok == model.flush(), "flush at the end");
  return 0;
}
