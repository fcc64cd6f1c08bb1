// SPDX-License-Identifier: MIT
// Scale (SPEC §7): a struct of 100,000 fields mounts quickly, `ls` lists them all, and a field
// far down the list costs what the first one does (lookups are a hash, inodes an index).
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <utility>
#include <vector>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

using Clock = std::chrono::steady_clock;

/// Microseconds per stat() of a name the kernel has not looked up before (so each is one LOOKUP
/// the daemon answers) in `small` and in `big`: `count` names a round (`name(n, i)` is the i-th
/// name of a struct of n fields), rounds alternating between the two mounts, the best of five
/// kept, so another process's burst of load does not decide the ratio.
template <typename Name>
std::pair<double, double> lookup_us(const Mount& small, int small_n, const Mount& big, int big_n,
                                    Name name) {
  constexpr int kCount = 500;
  auto round_us = [&](const Mount& m, int n, int round) {
    std::vector<std::string> paths;
    for (int i = 0; i < kCount; ++i) paths.push_back(m.path(name(n, round * kCount + i)));
    struct stat st {};
    auto start = Clock::now();
    for (const auto& p : paths) (void)::stat(p.c_str(), &st);
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCount;
  };
  std::pair<double, double> best{1e9, 1e9};
  for (int round = 0; round < 5; ++round) {
    best.first = std::min(best.first, round_us(small, small_n, round));
    best.second = std::min(best.second, round_us(big, big_n, round));
  }
  return best;
}

double pread_us(const std::string& path, int count) {
  int fd = ::open(path.c_str(), O_RDONLY);
  char buf[64];
  auto start = Clock::now();
  for (int i = 0; i < count; ++i) (void)::pread(fd, buf, sizeof buf, 0);
  auto took = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  ::close(fd);
  return took / count;
}

/// Writes `struct s { int f0; ... int f<n-1>; };` to `path`.
void write_header(const std::string& path, int n) {
  std::ofstream h(path);
  h << "struct s {\n";
  for (int i = 0; i < n; ++i) h << "  int f" << i << ";\n";
  h << "};\n";
}

/// Pins this process, and the daemons it starts from now on, to one CPU while it lives: a
/// wake-up across CPUs costs tens of microseconds on these machines, more than a lookup, and
/// would decide a comparison of two mounts by where each daemon happened to run.
class PinnedToOneCpu {
 public:
  PinnedToOneCpu() {
    ::sched_getaffinity(0, sizeof before_, &before_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ::sched_setaffinity(0, sizeof one, &one);
  }
  PinnedToOneCpu(const PinnedToOneCpu&) = delete;
  PinnedToOneCpu& operator=(const PinnedToOneCpu&) = delete;
  ~PinnedToOneCpu() { ::sched_setaffinity(0, sizeof before_, &before_); }

 private:
  cpu_set_t before_{};
};

TEST(ScaleTest, AHundredThousandFieldsMountListAndReadLikeTwo) {
  PinnedToOneCpu pinned;
  char tmpl[] = "/tmp/fieldfs-scale-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  write_header(dir + "/big.h", 100000);
  write_header(dir + "/small.h", 3000);
  auto start = Clock::now();
  Mount m({"-o", "schema=" + dir + "/big.h"});
  auto mount_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const double bound_ms = 30000;
#else
  const double bound_ms = 3000;  // 96 s before the front end became O(n); ~0.5 s on a quiet machine
#endif
  EXPECT_LT(mount_ms, bound_ms);
  // Lookups (stat) of names the kernel has not looked up before, each one LOOKUP the daemon
  // answers, before `ls` could have filled the dentry cache: fields spread over all 100,000, and
  // names that are not there, against the same in a struct of 3,000 fields.
  Mount small({"-o", "schema=" + dir + "/small.h"});
  ASSERT_TRUE(small.mounted()) << small.daemon_stderr();
  auto missing = [](int, int i) { return "nofield" + std::to_string(i); };
  auto spread = [](int n, int i) { return "f" + std::to_string(i * 997 % n); };
  auto [small_hit, big_hit] = lookup_us(small, 3000, m, 100000, spread);
  auto [small_miss, big_miss] = lookup_us(small, 3000, m, 100000, missing);
  // A walk of the fields measured 16x (found) and 20x (missing); a hash stays near 1x (1.02-1.05
  // pinned, in runs on a busy machine).
  EXPECT_LT(big_hit, small_hit * 2) << "a field among 100,000 is found as fast as among 3,000";
  EXPECT_LT(big_miss, small_miss * 2) << "a missing name does not walk 100,000 fields";
  std::printf(
      "lookup of a new name: 3,000 fields %.1f us (missing %.1f us); 100,000 fields %.1f us"
      " (missing %.1f us)\n",
      small_hit, small_miss, big_hit, big_miss);
  EXPECT_EQ(small.stop(), 0);

  auto ls = sh("ls " + quote(m.dir()) + " | wc -l");
  EXPECT_EQ(ls.out, "100000\n");
  ASSERT_EQ(sh("echo 7 > " + quote(m.path("f99999"))).status, 0);
  EXPECT_EQ(slurp(m.path("f99999")), "7\n");
  double first = pread_us(m.path("f0"), 2000);
  double last = pread_us(m.path("f99999"), 2000);
  EXPECT_LT(last, first * 3) << "constant-time reads";
  std::printf("100,000 fields: mount %.0f ms, pread f0 %.1f us, f99999 %.1f us\n", mount_ms, first,
              last);

  EXPECT_EQ(m.stop(), 0);
  sh("rm -rf " + quote(dir));
}

}  // namespace
}  // namespace fieldfs::test
