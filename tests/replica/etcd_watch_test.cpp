// SPDX-License-Identifier: MIT
// Etcd::watch against a real etcd: every put in order, from any revision, stopped promptly.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "etcd_server.hpp"
#include "replica/etcd.hpp"

namespace fieldfs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class EtcdWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(shared_etcd().ready()) << shared_etcd().log(); }

  /// Starts a watch of `key` from `from` on its own thread, feeding collector_.
  void start(const std::string& key, std::int64_t from) {
    watcher_ = std::jthread([this, key, from](std::stop_token stop) {
      auto r = watch_etcd_.watch(
          key, from, [this](const EtcdKey& k) { collector_.add(k); }, stop);
      outcome_.set_value(r.has_value() ? std::errc{} : r.error());
    });
  }

  Etcd etcd_{{shared_etcd().url()}, 2s};
  Etcd watch_etcd_{{shared_etcd().url()}, 2s};
  Collector collector_;
  std::promise<std::errc> outcome_;
  std::jthread watcher_;
};

TEST_F(EtcdWatchTest, SeesEveryPutInOrder) {
  const std::string k = test_key("k");
  auto before = etcd_.get(k);
  ASSERT_TRUE(before.has_value());
  std::vector<std::string> values;
  std::vector<std::int64_t> revisions;
  std::int64_t expected = 0;
  for (int i = 0; i < 60; ++i) {
    if (i == 30) start(k, before->revision + 1);  // the first 30 come as history, in batches
    std::string v = "put " + std::to_string(i) + std::string("\n\xc3\xa9\0\xff\0", 6);
    if (i % 10 == 9) {  // another client's puts come through the same watch
      v = "etcdctl " + std::to_string(i) + "\n\xe2\x82\xac";
      etcdctl(shared_etcd().url(), "put " + quote(k) + " " + quote(v));
      auto now = etcd_.get(k);
      ASSERT_TRUE(now.has_value());
      expected = now->mod_revision;
    } else {
      auto txn = etcd_.put_if(k, expected, v);
      ASSERT_TRUE(txn.has_value() && txn->committed) << i;
      expected = txn->revision;
    }
    values.push_back(v);
    revisions.push_back(expected);
  }
  auto seen = collector_.wait_for(values.size(), 10s);
  ASSERT_EQ(seen.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(seen[i].value, values[i]) << i;
    EXPECT_EQ(seen[i].mod_revision, revisions[i]) << i;
    EXPECT_TRUE(seen[i].exists);
    EXPECT_GE(seen[i].revision, seen[i].mod_revision);
  }
}

TEST_F(EtcdWatchTest, StopsPromptly) {
  const std::string k = test_key("k");
  auto put = etcd_.put_if(k, 0, "x");
  ASSERT_TRUE(put.has_value() && put->committed);
  start(k, put->revision);
  ASSERT_EQ(collector_.wait_for(1, 5s).size(), 1U);  // the watch is open
  std::this_thread::sleep_for(200ms);
  auto done = outcome_.get_future();
  const auto asked = Clock::now();
  watcher_.request_stop();
  ASSERT_EQ(done.wait_for(2s), std::future_status::ready);
  const auto took = Clock::now() - asked;
  EXPECT_EQ(done.get(), std::errc{});
  EXPECT_LT(took, 100ms) << std::chrono::duration<double, std::milli>(took).count() << " ms";
}

TEST_F(EtcdWatchTest, ResumesFromARevision) {
  const std::string k = test_key("k");
  std::vector<std::int64_t> revisions;
  std::int64_t expected = 0;
  for (int i = 0; i < 5; ++i) {
    auto txn = etcd_.put_if(k, expected, "v" + std::to_string(i));
    ASSERT_TRUE(txn.has_value() && txn->committed);
    expected = txn->revision;
    revisions.push_back(expected);
  }
  start(k, revisions[2]);
  auto seen = collector_.wait_for(3, 5s);
  std::this_thread::sleep_for(100ms);  // nothing more arrives
  seen = collector_.wait_for(3, 0ms);
  ASSERT_EQ(seen.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].value, "v" + std::to_string(i + 2));
    EXPECT_EQ(seen[i].mod_revision, revisions[i + 2]);
  }
}

TEST_F(EtcdWatchTest, CompactedRevisionIsStale) {
  const std::string k = test_key("k");
  auto first = etcd_.put_if(k, 0, "a");
  ASSERT_TRUE(first.has_value() && first->committed);
  auto second = etcd_.put_if(k, first->revision, "b");
  ASSERT_TRUE(second.has_value() && second->committed);
  int status = -1;
  etcdctl(shared_etcd().url(), "compact " + std::to_string(second->revision), &status);
  ASSERT_EQ(status, 0);
  auto done = outcome_.get_future();
  start(k, first->revision);
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(done.get(), static_cast<std::errc>(ESTALE));
  EXPECT_TRUE(collector_.wait_for(1, 0ms).empty());
}

TEST_F(EtcdWatchTest, ExceptionFromOnPutPropagates) {
  const std::string k = test_key("k");
  auto put = etcd_.put_if(k, 0, "x");
  ASSERT_TRUE(put.has_value() && put->committed);
  std::stop_source never;
  EXPECT_THROW((void)watch_etcd_.watch(
                   k, put->revision, [](const EtcdKey&) { throw std::runtime_error("on_put"); },
                   never.get_token()),
               std::runtime_error);
}

}  // namespace
}  // namespace fieldfs::test
