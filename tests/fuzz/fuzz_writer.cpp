// SPDX-License-Identifier: MIT
// WriteCollector against a model written from SPEC §5's sentences alone (not from writer.cpp):
// each sentence it follows is quoted beside the code that follows it. Whether a text is a value
// is parse_value's to say (fuzz_value checks it against its own model); what is collected, when
// a value starts, ends and is stored, and what close() reports are the model's.
// Input: one byte that picks the leaf, then operations, each an opcode byte, and for writes a
// length byte and that many bytes of data:
//   op & 3 == 0: write at offset 0      op & 3 == 1: write at the end (append)
//   op & 3 == 2: write elsewhere (near the end, or near 2^64 when op & 0x20)
//   op & 3 == 3: close the file (its result is checked) and open it again; with op & 0x80, close
//                a copy of the descriptor (checked the same way; the file stays open)
// op & 0x40 multiplies the length by 17, so writes can pass the 4096-byte limit. The kernel
// sends no write of 0 bytes, so none is made.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/codec.hpp"
#include "core/writer.hpp"
#include "fuzz_support.hpp"

using namespace fieldfs;

namespace {

constexpr std::size_t kTextLimit = 4096;  // "more than 4096 bytes of text fails with EFBIG"

/// One open field file, as SPEC §5 describes it.
class OpenFile {
 public:
  OpenFile(const Schema& schema, const Leaf& leaf) : schema_(&schema), leaf_(&leaf) {}

  /// The outcome of write(): an errno, the bytes stored, or nullopt (kept, nothing stored).
  Result<std::optional<std::string>> write(std::uint64_t offset, std::string_view data) {
    // "A write at offset 0, or at any offset other than the end of what this open file has
    // written so far, starts a new value; a write at that end appends." "A newline ends the
    // value": what follows it is a new one. A failed write ended its value ("the field keeps
    // its old value"), so nothing of it is continued.
    bool appends = offset != 0 && written_end_ == offset && open_value_.has_value();
    std::string text = appends ? *open_value_ + std::string(data) : std::string(data);
    open_value_.reset();
    written_end_ = offset + data.size();
    if (text.size() > kTextLimit) return fail(std::errc::file_too_large);
    auto parsed = parse_value(*schema_, *leaf_, text);
    if (!parsed) return parsed;
    bool ended = text.ends_with('\n');
    // "text that ends in one [a newline] must be complete"
    if (ended && !*parsed) return fail(std::errc::invalid_argument);
    // "text without a newline that can still become a value is kept and stored when complete";
    // a complete value without a newline is stored and may still be appended to (dd bs=1).
    if (!ended) open_value_ = text;
    incomplete_ = !*parsed;
    return parsed;
  }

  /// close(): "if the file is closed before it completes, close() fails with EINVAL".
  bool close_succeeds() const { return !(open_value_ && incomplete_); }

  /// Where the next append goes.
  std::uint64_t end() const { return written_end_; }

 private:
  const Schema* schema_;
  const Leaf* leaf_;
  std::optional<std::string> open_value_;  // the value still being written, if any
  std::uint64_t written_end_ = 0;
  bool incomplete_ = false;
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
      std::uint64_t base = (op & 0x20) != 0 ? ~std::uint64_t{0} : end;
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
  OpenFile model(schema, leaf);
  auto close_and_check = [&](const char* when) {
    bool ok = static_cast<bool>(collector.flush());
    FUZZ_CHECK(ok == model.close_succeeds(), when);
  };
  while (!in.empty()) {
    std::uint8_t op = in.byte();
    if ((op & 3) == 3) {
      close_and_check("close");
      // op & 0x80: the close of a copy of the descriptor (a forked child's exit): it reports
      // like the last close, and the value being written stays pending for the other copies.
      if ((op & 0x80) != 0) continue;
      collector = WriteCollector{};
      model = OpenFile(schema, leaf);
      continue;
    }
    std::uint64_t offset = pick_offset(op, model.end(), in);
    std::size_t length = in.byte() * ((op & 0x40) != 0 ? 17U : 1U);
    std::string_view chunk = in.take(length);
    if (chunk.empty()) continue;
    auto got = collector.write(schema, leaf, offset, chunk);
    check_same(got, model.write(offset, chunk), chunk);
    if (got && *got) fuzz::check_value(schema, leaf, **got);
  }
  close_and_check("close at the end");
  return 0;
}
