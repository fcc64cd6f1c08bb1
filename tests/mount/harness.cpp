// SPDX-License-Identifier: MIT
#include "harness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fieldfs::test {

namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

void drain(int fd, std::string& into) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) into.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

const char* fieldfs_binary() { return FIELDFS_BINARY; }
const char* source_dir() { return FIELDFS_SOURCE_DIR; }

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string unique_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "fieldfs-test-" + stem + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

Outcome sh(const std::string& command, int timeout_s) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  Outcome r;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (auto& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      std::string& into = p.fd == out[0] ? r.out : r.err;
      std::size_t before = into.size();
      drain(p.fd, into);
      if (into.size() == before) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (open_fds > 0) ::kill(-pid, SIGKILL);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  r.status = open_fds > 0 ? -1 : decode_status(raw);
  return r;
}

bool is_mounted(const std::string& dir) {
  std::ifstream mounts("/proc/self/mounts");
  std::string dev;
  std::string where;
  std::string rest;
  while (mounts >> dev >> where && std::getline(mounts, rest)) {
    if (where == dir) return true;
  }
  return false;
}

int processes_with_argument(const std::string& arg) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = slurp(entry.path().string() + "/cmdline");
    std::size_t start = 0;
    for (std::size_t nul; (nul = cmdline.find('\0', start)) != std::string::npos; start = nul + 1) {
      if (cmdline.compare(start, nul - start, arg) == 0) {
        ++count;
        break;
      }
    }
  }
  return count;
}

std::string slurp(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return "<errno " + std::to_string(errno) + ">";
  std::string text;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int e = errno;
  ::close(fd);
  return n < 0 ? "<errno " + std::to_string(e) + ">" : text;
}

Mount::Mount(std::vector<std::string> args, std::string source, bool keep_segment)
    : keep_segment_(keep_segment) {
  char tmpl[] = "/tmp/fieldfs-mnt-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  source_ = source.empty() ? unique_name("seg") : source;
  if (source_.find('/') == std::string::npos) {
    segment_path_ = "/dev/shm/" + source_.substr(source_.find(':') + 1);
  }
  log_ = dir_ + ".log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a test that dies (abort, sanitizer) still unmounts
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    std::vector<std::string> argv{fieldfs_binary(), "-f", source_, dir_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  // Generous: a daemon that fails exits at once and is seen below; only a slow start waits. A
  // 100,000-field header under ASan, beside another test, took more than 10 s in CI.
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    if (is_mounted(dir_)) {
      mounted_ = true;
      return;
    }
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
      status_ = decode_status(raw);
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string Mount::daemon_stderr() const { return slurp(log_); }

int Mount::reap(int timeout_ms) {
  if (pid_ < 0) return status_;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int raw = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = decode_status(raw);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &raw, 0);
  pid_ = -1;
  status_ = -2;  // it would not stop: a failure of its own
  return status_;
}

int Mount::stop() {
  if (is_mounted(dir_)) {
    if (sh("fusermount3 -u " + quote(dir_)).status != 0) sh("fusermount3 -uz " + quote(dir_));
  }
  mounted_ = false;
  int status = reap(15000);
  // A daemon that was still starting when the test gave up may have mounted since, and reap()
  // kills what does not stop: never leave its mount behind.
  if (is_mounted(dir_)) sh("fusermount3 -uz " + quote(dir_));
  return status;
}

int Mount::signal_and_wait(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
  int status = reap(15000);
  if (is_mounted(dir_)) sh("fusermount3 -uz " + quote(dir_));
  mounted_ = false;
  return status;
}

void* Mount::map(std::size_t size) {
  std::string path = segment_path_.empty() ? source_.substr(source_.find(':') + 1) : segment_path_;
  if (source_.starts_with("file:")) path = source_.substr(5);
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) return nullptr;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return nullptr;
  maps_.emplace_back(p, size);
  return p;
}

Mount::~Mount() {
  stop();
  for (auto [p, n] : maps_) ::munmap(p, n);
  ::rmdir(dir_.c_str());
  ::unlink(log_.c_str());
  if (!keep_segment_ && !segment_path_.empty()) ::unlink(segment_path_.c_str());
}

}  // namespace fieldfs::test
