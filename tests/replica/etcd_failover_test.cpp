// SPDX-License-Identifier: MIT
// Endpoints that do not answer: a dead one is skipped; with none alive every call fails in time.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "etcd_server.hpp"
#include "replica/etcd.hpp"

namespace fieldfs::test {
namespace {

/// Whether every thread of `pid` is stopped now: kill(SIGSTOP) returns before a thread that runs
/// on the other CPU has stopped, and until then it may still answer.
bool all_stopped(pid_t pid) {
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'T') {
      return false;
    }
  }
  return !ec;
}

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// How long `f` took.
template <typename F>
Clock::duration timed(F&& f) {
  const auto start = Clock::now();
  f();
  return Clock::now() - start;
}

TEST(EtcdFailoverTest, DeadEndpointListedFirstIsSkipped) {
  ASSERT_TRUE(shared_etcd().ready()) << shared_etcd().log();
  const ReservedPort dead;  // bound, nobody listens: connections are refused
  Etcd etcd({dead.url(), shared_etcd().url()}, 1s);
  const std::string k = test_key("k");
  Result<EtcdTxn> put = fail(std::errc::io_error);
  EXPECT_LT(timed([&] { put = etcd.put_if(k, 0, "v"); }), 1s);
  ASSERT_TRUE(put.has_value() && put->committed);
  Etcd fresh({dead.url(), shared_etcd().url()}, 1s);
  Result<EtcdKey> got = fail(std::errc::io_error);
  EXPECT_LT(timed([&] { got = fresh.get(k); }), 1s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "v");
  Etcd watcher({dead.url(), shared_etcd().url()}, 1s);
  Collector seen;
  std::stop_source stop;
  std::thread t([&] {
    (void)watcher.watch(
        k, put->revision, [&](const EtcdKey& key) { seen.add(key); }, stop.get_token());
  });
  const auto delivered = seen.wait_for(1, 1s);
  stop.request_stop();
  t.join();
  ASSERT_EQ(delivered.size(), 1U);
  EXPECT_EQ(delivered[0].value, "v");
}

TEST(EtcdFailoverTest, StoppedEtcdFailsWithinTheTimeout) {
  EtcdServer server;
  ASSERT_TRUE(server.ready()) << server.log();
  constexpr auto kTimeout = 500ms;
  constexpr auto kMargin = 300ms;
  Etcd etcd({server.url()}, kTimeout);
  const std::string k = test_key("k");
  auto put = etcd.put_if(k, 0, "v");
  ASSERT_TRUE(put.has_value() && put->committed);
  Collector seen;
  std::promise<std::errc> watch_outcome;
  auto watch_done = watch_outcome.get_future();
  std::jthread watcher([&](std::stop_token stop) {
    auto r = etcd.watch(
        k, put->revision, [&](const EtcdKey& key) { seen.add(key); }, stop);
    watch_outcome.set_value(r.has_value() ? std::errc{} : r.error());
  });
  ASSERT_EQ(seen.wait_for(1, 2s).size(), 1U);

  ASSERT_EQ(kill(server.pid(), SIGSTOP), 0);
  for (int i = 0; i < 1000 && !all_stopped(server.pid()); ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(all_stopped(server.pid()));
  const auto stopped = Clock::now();
  Result<EtcdKey> got = EtcdKey{};
  EXPECT_LT(timed([&] { got = etcd.get(k); }), kTimeout + kMargin);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error(), std::errc::io_error);
  Result<EtcdTxn> txn = EtcdTxn{};
  EXPECT_LT(timed([&] { txn = etcd.put_if(k, put->revision, "w"); }), kTimeout + kMargin);
  ASSERT_FALSE(txn.has_value());
  EXPECT_EQ(txn.error(), std::errc::timed_out);  // sent, unanswered: it may yet commit
  // The open watch hears nothing, probes after `timeout` of silence, and the probe times out.
  ASSERT_EQ(watch_done.wait_for(2 * kTimeout + kMargin), std::future_status::ready);
  EXPECT_EQ(watch_done.get(), std::errc::io_error);
  EXPECT_LT(Clock::now() - stopped, 4 * kTimeout + 2 * kMargin);
  std::stop_source never;
  Result<void> reopened;
  EXPECT_LT(timed([&] {
              reopened = etcd.watch(
                  k, 1, [](const EtcdKey&) {}, never.get_token());
            }),
            kTimeout + kMargin);
  EXPECT_EQ(reopened.error(), std::errc::io_error);

  ASSERT_EQ(kill(server.pid(), SIGCONT), 0);
  got = etcd.get(k);
  ASSERT_TRUE(got.has_value());
  // The put that timed out sat in the stopped etcd's socket: it may have committed on SIGCONT.
  EXPECT_TRUE(got->value == "v" || got->value == "w") << got->value;
  std::printf("put_if that timed out on a stopped etcd, after SIGCONT: %s\n",
              got->value == "w" ? "committed" : "not committed");

  server.kill_now();
  EXPECT_LT(timed([&] { got = etcd.get(k); }), kTimeout + kMargin);
  EXPECT_EQ(got.error(), std::errc::io_error);
  EXPECT_LT(timed([&] { txn = etcd.put_if(k, 0, "w"); }), kTimeout + kMargin);
  EXPECT_EQ(txn.error(), std::errc::io_error);  // refused: nothing was sent
}

}  // namespace
}  // namespace fieldfs::test
