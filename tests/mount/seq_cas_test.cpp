// SPDX-License-Identifier: MIT
// Compare-and-set through the mount (SPEC §8): a .json write that includes the counter stores only
// at the current counter; a .raw write always compares the image's counter bytes; a failed one
// stores nothing (the mapping's bytes, counter included, are as they were) and fails with EAGAIN.
// The two shell loops of the issue are tests/mount/seq_shell_test.sh.
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "seq_support.hpp"

namespace fieldfs::test::seq {
namespace {

using SeqCasTest = SeqVariantTest;
using nlohmann::json;

json::json_pointer counter_in_json(const Variant& v) {
  return json::json_pointer(std::string("/") + v.seq_path);
}

/// Counters other than `current`: stale, ahead, odd, and (8 bytes) equal in the low half only.
std::vector<std::uint64_t> others(const Variant& v, std::uint64_t current) {
  std::vector<std::uint64_t> all{current - 2, current + 2, current + 1, current + 1000};
  if (v.seq_width == 8) all.push_back(current + (std::uint64_t{1} << 32));
  return all;
}

TEST_P(SeqCasTest, AJsonWriteWithTheCurrentCounterStoresAndAdvancesIt) {
  ASSERT_EQ(write_errno(path("x"), "1\n"), 0);
  json doc = json::parse(read_once(path(".json")).text);
  std::uint64_t c = image().counter();
  ASSERT_EQ(doc[counter_in_json(v())].get<std::uint64_t>(), c);
  doc["x"] = 10;
  doc["name"] = "ten";
  EXPECT_EQ(write_errno(path(".json"), doc.dump()), 0) << doc.dump();
  EXPECT_EQ(image().counter(), c + 2);
  EXPECT_EQ(image().x(), 10);
  EXPECT_EQ(slurp(path("name")), "ten\n");
  json only;
  only[counter_in_json(v())] = c + 2;
  EXPECT_EQ(write_errno(path(".json"), only.dump()), 0) << "the counter alone: " << only.dump();
  EXPECT_EQ(image().counter(), c + 4);
}

TEST_P(SeqCasTest, AJsonWriteWithAnyOtherCounterStoresNothingAndFailsWithEagain) {
  json doc = json::parse(read_once(path(".json")).text);
  std::uint64_t c = image().counter();
  ASSERT_EQ(write_errno(path("y"), "5\n"), 0) << "an update made in between";
  std::string before = image().bytes();
  doc["x"] = 20;
  EXPECT_EQ(write_errno(path(".json"), doc.dump()), EAGAIN) << "stale: " << doc.dump();
  EXPECT_EQ(image().bytes(), before) << "nothing stored, the counter included";
  EXPECT_EQ(image().y(), 5) << "the update in between is not lost";
  for (std::uint64_t other : others(v(), c + 2)) {
    doc[counter_in_json(v())] = other;
    EXPECT_EQ(write_errno(path(".json"), doc.dump()), EAGAIN) << doc.dump();
    EXPECT_EQ(image().bytes(), before);
  }
  EXPECT_EQ(image().counter(), c + 2);
}

TEST_P(SeqCasTest, AJsonWriteIsCheckedWhole) {
  std::uint64_t c = image().counter();
  std::string before = image().bytes();
  json doc = json::parse(read_once(path(".json")).text);
  doc["x"] = 30;
  doc["y"] = "thirty";  // not a value: EINVAL, as through the field's file (SPEC §5)
  EXPECT_EQ(write_errno(path(".json"), doc.dump()), EINVAL) << doc.dump();
  EXPECT_EQ(image().bytes(), before);
  EXPECT_EQ(image().counter(), c);
}

/// The mapping's bytes with x replaced, and the counter with `counter`.
std::string image_with(const Variant& v, std::string bytes, int x, std::uint64_t counter) {
  std::memcpy(bytes.data() + v.x_at, &x, sizeof x);
  std::memcpy(bytes.data() + v.seq_at, &counter, v.seq_width);  // little-endian: the low bytes
  return bytes;
}

TEST_P(SeqCasTest, ARawWriteWithTheCurrentCounterStoresAndTheDaemonAdvancesIt) {
  ASSERT_EQ(write_errno(path("x"), "1\n"), 0);
  Read raw = read_once(path(".raw"));
  ASSERT_EQ(raw.err, 0);
  ASSERT_EQ(raw.text, image().bytes()) << "no one else writes";
  std::uint64_t c = image().counter();
  EXPECT_EQ(write_errno(path(".raw"), image_with(v(), raw.text, 11, c)), 0);
  EXPECT_EQ(image().counter(), c + 2) << "advanced by the daemon, not taken from the image";
  EXPECT_EQ(image().x(), 11);
  std::string expected = image_with(v(), raw.text, 11, c + 2);
  EXPECT_EQ(image().bytes(), expected) << "every other byte as the image had it";
}

TEST_P(SeqCasTest, ARawWriteWithAnyOtherCounterStoresNothingAndFailsWithEagain) {
  Read raw = read_once(path(".raw"));
  ASSERT_EQ(raw.err, 0);
  std::uint64_t c = image().counter();
  ASSERT_EQ(write_errno(path("y"), "5\n"), 0) << "an update made in between";
  std::string before = image().bytes();
  for (std::uint64_t other : others(v(), c + 2)) {
    EXPECT_EQ(write_errno(path(".raw"), image_with(v(), raw.text, 12, other)), EAGAIN)
        << "counter " << other << " in the image, " << c + 2 << " in the segment";
    EXPECT_EQ(image().bytes(), before);
  }
  EXPECT_EQ(image().y(), 5);
}

INSTANTIATE_TEST_SUITE_P(Seq, SeqCasTest, ::testing::Values(&kPos, &kPos8, &kPosH), variant_label);

}  // namespace
}  // namespace fieldfs::test::seq
