// SPDX-License-Identifier: MIT
// get and put_if against a real etcd; etcdctl, etcd's own client, reads back what was written.
#include "replica/etcd.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etcd_server.hpp"
#include "replica/etcd_wire.hpp"

namespace fieldfs::test {
namespace {

using namespace std::chrono_literals;

/// What etcdctl reads at `key`: the raw bytes it prints, less the newline it adds.
std::string read_back(const std::string& key) {
  int status = -1;
  std::string out = etcdctl(shared_etcd().url(), "get --print-value-only " + quote(key), &status);
  EXPECT_EQ(status, 0);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(shared_etcd().ready()) << shared_etcd().log(); }
  Etcd etcd_{{shared_etcd().url()}, 2s};
};

TEST(Base64Test, MatchesRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xff\xfe\x00", 3), "//4A"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(detail::base64_encode(bytes), text);
    auto back = detail::base64_decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes);
  }
  for (const char* bad : {"Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zm9", "Zg==Zg=="}) {
    EXPECT_FALSE(detail::base64_decode(bad).has_value()) << bad;
  }
}

TEST_F(EtcdTest, GetOfMissingKeyHasNoValue) {
  auto got = etcd_.get(test_key("missing"));
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->exists);
  EXPECT_EQ(got->value, "");
  EXPECT_EQ(got->mod_revision, 0);
  EXPECT_GE(got->revision, 1);
}

TEST_F(EtcdTest, PutIfCreatesThenRefusesStaleRevision) {
  const std::string k = test_key("k");
  auto created = etcd_.put_if(k, 0, "one");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(created->committed);
  EXPECT_EQ(read_back(k), "one");
  auto got = etcd_.get(k);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->exists);
  EXPECT_EQ(got->value, "one");
  EXPECT_EQ(got->mod_revision, created->revision);

  auto again = etcd_.put_if(k, 0, "two");  // it exists now
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->committed);
  EXPECT_EQ(again->current.value, "one");
  EXPECT_EQ(again->current.mod_revision, created->revision);

  auto second = etcd_.put_if(k, created->revision, "two");
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(second->committed);
  EXPECT_GT(second->revision, created->revision);
  auto stale = etcd_.put_if(k, created->revision, "three");
  ASSERT_TRUE(stale.has_value());
  EXPECT_FALSE(stale->committed);
  EXPECT_TRUE(stale->current.exists);
  EXPECT_EQ(stale->current.value, "two");
  EXPECT_EQ(stale->current.mod_revision, second->revision);
  EXPECT_EQ(read_back(k), "two");
}

TEST_F(EtcdTest, ValuesRoundTripBytesBothWays) {
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes += static_cast<char>(c);  // NUL: etcdctl prints it too
  const std::vector<std::string> values = {all_bytes,
                                           std::string("a\0b", 3),
                                           "line\nline\n",
                                           "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                           "{\"json\": [1, \"\\n\"]}",
                                           ""};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string k = test_key(std::to_string(i));
    auto put = etcd_.put_if(k, 0, values[i]);
    ASSERT_TRUE(put.has_value() && put->committed) << i;
    EXPECT_EQ(read_back(k), values[i]) << i;
    auto got = etcd_.get(k);
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(got->exists) << i;
    EXPECT_EQ(got->value, values[i]) << i;
  }
  const std::string k = test_key("from-etcdctl");
  const std::string value = "\xc3\xa9t\xc3\xa9\nsecond line\ttab";
  int status = -1;
  etcdctl(shared_etcd().url(), "put " + quote(k) + " " + quote(value), &status);
  ASSERT_EQ(status, 0);
  auto got = etcd_.get(k);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, value);
}

TEST_F(EtcdTest, ConcurrentIncrementsEndAtTheSum) {
  const std::string k = test_key("counter");
  ASSERT_TRUE(etcd_.put_if(k, 0, "0").has_value());
  constexpr int kThreads = 4;
  constexpr int kEach = 40;
  std::vector<std::vector<std::int64_t>> won(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto seen = etcd_.get(k);
      for (int done = 0; done < kEach && seen.has_value();) {
        long next = -1;  // a key that is gone or not a number ends the loop: the sum tells
        std::from_chars(seen->value.data(), seen->value.data() + seen->value.size(), next);
        if (!seen->exists || next++ < 0) return;
        auto txn = etcd_.put_if(k, seen->mod_revision, std::to_string(next));
        if (!txn.has_value()) return;
        if (txn->committed) {
          won[static_cast<std::size_t>(t)].push_back(seen->mod_revision);
          ++done;
        }
        seen = txn->current;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(read_back(k), std::to_string(kThreads * kEach));
  std::set<std::int64_t> expected_revisions;  // exactly one winner per revision
  for (const auto& w : won) {
    EXPECT_EQ(w.size(), static_cast<std::size_t>(kEach));
    for (auto r : w) EXPECT_TRUE(expected_revisions.insert(r).second) << r;
  }
}

}  // namespace
}  // namespace fieldfs::test
