// SPDX-License-Identifier: MIT
// The tuning options take effect, each shown by what the kernel or a client sees: threads=N (how
// many threads serve requests under concurrent load), poll_ms (how soon a store through the
// mapping wakes a poller), max_read (the size of the READ requests the kernel sends).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace fieldfs::test {
namespace {

int task_count(pid_t pid) {
  int n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (d == nullptr) return -1;
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
  ::closedir(d);
  return n;
}

/// The most threads the daemon had while eight clients read .json as fast as they can.
int threads_under_load(const std::vector<std::string>& options) {
  Mount m(options);
  EXPECT_TRUE(m.mounted()) << m.daemon_stderr();
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      while (!stop) slurp(m.path(".json"));
    });
  }
  int most = 0;
  for (int i = 0; i < 100; ++i) {
    most = std::max(most, task_count(m.pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(m.stop(), 0) << m.daemon_stderr();
  return most;
}

// The default serves requests on one thread; threads=4 on up to four (libfuse starts a worker
// when none is idle).
TEST(OptionsTest, ThreadsSetsHowManyThreadsServeRequests) {
  int one = threads_under_load({});
  int four = threads_under_load({"-o", "threads=4"});
  // By default the main thread serves; with threads=N it waits while N workers serve. The other
  // threads (the watcher's) are the same in both, so the workers are the difference.
  int workers = four - one;
  EXPECT_GT(workers, 1) << "threads=4 serves concurrent requests on more than one thread";
  EXPECT_LE(workers, 4) << "and on at most four";
  std::printf("daemon threads under load: default %d, threads=4 %d\n", one, four);
}

/// The median delay in ms between a store through the mapping and the poller's wake-up.
double map_wakeup_ms(const std::string& poll_ms, int count) {
  Mount m({"-o", "poll_ms=" + poll_ms});
  EXPECT_TRUE(m.mounted()) << m.daemon_stderr();
  std::string client = std::string(source_dir()) + "/tests/mount/poll_client.py";
  auto r = sh("python3 " + quote(client) + " latency " + quote(m.path("bar")) + " /dev/shm/" +
                  m.source() + " " + std::to_string(count),
              120);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(m.stop(), 0) << m.daemon_stderr();
  std::istringstream lines(r.out);
  std::string how;
  double median = -1;
  double worst = 0;
  lines >> how >> median >> worst;
  EXPECT_EQ(how, "map") << r.out;
  return median;
}

// Stores through the mapping are found by sampling every poll_ms: a wake-up comes within one
// period, so on average after half of one.
TEST(OptionsTest, PollMsSetsHowSoonAMappingStoreWakesAPoller) {
  double fast = map_wakeup_ms("10", 20);
  double slow = map_wakeup_ms("500", 8);
  EXPECT_LT(fast, 60.0) << "poll_ms=10";
  EXPECT_GT(slow, 60.0) << "poll_ms=500";
  EXPECT_GT(slow, fast * 5) << "poll_ms=500 wakes later than poll_ms=10";
  std::printf("median wake-up after a mapping store: poll_ms=10 %.1f ms, poll_ms=500 %.1f ms\n",
              fast, slow);
}

/// The sizes of the READ requests one read() of 128 KiB from `field` made, from the daemon's -d
/// log: each READ's reply is "outsize: N", N being 16 bytes of header and the data.
std::vector<long> read_request_sizes(const std::vector<std::string>& options) {
  char tmpl[] = "/tmp/fieldfs-maxread-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::ofstream(dir + "/s.h") << "struct s { char text[60000]; };\n";
  std::vector<std::string> args{"-d", "-o", "schema=" + dir + "/s.h"};
  args.insert(args.end(), options.begin(), options.end());
  Mount m(args);
  EXPECT_TRUE(m.mounted()) << m.daemon_stderr();
  auto* text = static_cast<char*>(m.map(60000));
  if (text != nullptr) std::fill(text, text + 59999, 'x');
  std::vector<char> buf(128 * 1024);
  int fd = ::open(m.path("text").c_str(), O_RDONLY);
  std::string before = m.daemon_stderr();
  ssize_t n = ::read(fd, buf.data(), buf.size());
  EXPECT_EQ(n, 60000) << "one read() returns the whole value (59,999 bytes and a newline)";
  ::close(fd);
  std::string log = m.daemon_stderr().substr(before.size());
  EXPECT_EQ(m.stop(), 0);
  sh("rm -rf " + quote(dir));
  // "unique: 12, opcode: READ (15), ..." then "   unique: 12, success, outsize: 4112"
  auto unique_of = [](const std::string& line) {
    auto at = line.find("unique: ");
    return at == std::string::npos ? std::string() : line.substr(at, line.find(',', at) - at);
  };
  std::vector<long> sizes;
  std::set<std::string> reads;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(", opcode: READ ") != std::string::npos) reads.insert(unique_of(line));
    auto out = line.find(", success, outsize: ");
    if (out != std::string::npos && reads.erase(unique_of(line)) == 1) {
      sizes.push_back(std::stol(line.substr(out + 20)) - 16);
    }
  }
  return sizes;
}

// The kernel splits a read into requests of at most max_read bytes (read() still returns all).
TEST(OptionsTest, MaxReadSetsTheLargestReadRequest) {
  auto small = read_request_sizes({});
  auto large = read_request_sizes({"-o", "max_read=65536"});
  ASSERT_FALSE(small.empty());
  ASSERT_FALSE(large.empty());
  EXPECT_LE(*std::max_element(small.begin(), small.end()), 4096) << "default max_read=4096";
  EXPECT_GE(small.size(), 15U) << "60,000 bytes in requests of 4096";
  EXPECT_GT(*std::max_element(large.begin(), large.end()), 4096) << "max_read=65536";
  EXPECT_LE(*std::max_element(large.begin(), large.end()), 65536);
  EXPECT_LE(large.size(), 2U);
  std::printf("READ requests for 60,000 bytes: %zu (max_read 4096), %zu (max_read 65536)\n",
              small.size(), large.size());
}

}  // namespace
}  // namespace fieldfs::test
