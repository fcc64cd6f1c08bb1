// SPDX-License-Identifier: MIT
// Figures on 127.0.0.1 (printed, and recorded as test properties): get, put_if, a put seen by a
// watch on another Etcd object, and `etcdctl put` (a process spawn each) for scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "etcd_server.hpp"
#include "replica/etcd.hpp"

namespace fieldfs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Prints and records the median and 99th percentile of `samples` (microseconds).
void report(const char* what, std::vector<double> samples) {
  ASSERT_FALSE(samples.empty());
  std::sort(samples.begin(), samples.end());
  const double median = samples[samples.size() / 2];
  const double p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  std::printf("%-28s n=%4zu  median %8.1f us  p99 %8.1f us\n", what, samples.size(), median, p99);
  ::testing::Test::RecordProperty(std::string(what) + " median us", std::to_string(median));
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

TEST(EtcdLatencyTest, Report) {
  ASSERT_TRUE(shared_etcd().ready()) << shared_etcd().log();
  Etcd etcd({shared_etcd().url()}, 2s);
  Etcd watch_etcd({shared_etcd().url()}, 2s);
  const std::string k = test_key("k");
  constexpr int kRounds = 300;
  std::vector<double> gets;
  std::vector<double> puts;
  std::vector<double> deliveries;
  auto now = etcd.get(k);
  ASSERT_TRUE(now.has_value());
  std::int64_t expected = 0;
  std::atomic<std::int64_t> delivered{0};
  std::atomic<Clock::rep> delivered_at{0};
  std::jthread watcher([&](std::stop_token stop) {
    (void)watch_etcd.watch(
        k, now->revision + 1,
        [&](const EtcdKey& key) {
          delivered_at = Clock::now().time_since_epoch().count();
          delivered = key.mod_revision;
        },
        stop);
  });
  for (int i = 0; i < kRounds; ++i) {
    const auto start = Clock::now();
    auto txn = etcd.put_if(k, expected, std::to_string(i));
    const auto put_done = Clock::now();
    ASSERT_TRUE(txn.has_value() && txn->committed);
    expected = txn->revision;
    while (delivered.load() != expected && Clock::now() - start < 5s) std::this_thread::yield();
    ASSERT_EQ(delivered.load(), expected);
    puts.push_back(micros(put_done - start));
    deliveries.push_back(micros(Clock::duration(delivered_at.load()) - start.time_since_epoch()));
    const auto get_start = Clock::now();
    ASSERT_TRUE(etcd.get(k).has_value());
    gets.push_back(micros(Clock::now() - get_start));
  }
  std::vector<double> spawned;
  for (int i = 0; i < 30; ++i) {
    const auto start = Clock::now();
    int status = -1;
    etcdctl(shared_etcd().url(), "put " + quote(k) + " x", &status);
    spawned.push_back(micros(Clock::now() - start));
    ASSERT_EQ(status, 0);
  }
  report("get", gets);
  report("put_if", puts);
  report("put_if -> on_put (watch)", deliveries);
  report("etcdctl put (spawn)", spawned);
}

}  // namespace
}  // namespace fieldfs::test
