// SPDX-License-Identifier: MIT
// Processes for seq_c_test.cpp: a state file under /dev/shm that every child maps, children
// that run seq_worker (the C header's side) or a C++ function (fieldfs::SeqLock's side) with
// their stdout on a pipe, and a bounded wait for each: no child outlives its test.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fieldfs::seqc {

/// seq_worker's struct state: the counter's 4 or 8 bytes at offset 0.
struct alignas(8) State {
  std::uint64_t seq;
  std::int64_t x;
  std::int64_t y;
  char name[24];
};

/// A zeroed State (name "0", so that the first state is consistent) in a file under /dev/shm,
/// mapped shared; removed with the object.
class StateFile {
 public:
  StateFile() {
    int fd = ::mkstemp(path_);
    if (fd < 0 || ::ftruncate(fd, sizeof(State)) != 0) throw std::runtime_error("state file");
    void* p = ::mmap(nullptr, sizeof(State), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    state_ = static_cast<State*>(p);
    state_->name[0] = '0';
  }
  ~StateFile() {
    ::munmap(state_, sizeof(State));
    ::unlink(path_);
  }
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  const char* path() const { return path_; }
  State& state() { return *state_; }
  std::byte* counter() { return reinterpret_cast<std::byte*>(&state_->seq); }

 private:
  char path_[40] = "/dev/shm/fieldfs_seq_c_XXXXXX";
  State* state_ = nullptr;
};

/// What a child printed and how it ended; `code` is -1 if it was killed at the deadline.
struct Outcome {
  int code = -1;
  std::string out;
};

/// A running child: its pid and the read end of its stdout.
class Child {
 public:
  /// Runs `body` in a forked process; what it returns is the exit code.
  explicit Child(const std::function<int()>& body) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      int code = body();
      std::fflush(nullptr);
      ::_exit(code);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  /// Runs the program `argv[0]` with `argv`.
  explicit Child(std::vector<std::string> argv)
      : Child([argv]() mutable {
          std::vector<char*> args;
          for (auto& a : argv) args.push_back(a.data());
          args.push_back(nullptr);
          ::execv(args[0], args.data());
          return 127;
        }) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) finish(std::chrono::milliseconds(0));
  }

  /// Whether it still runs.
  bool running() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }

  /// Reads its output and reaps it, killing it if it runs past `limit` from now.
  Outcome finish(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    Outcome r;
    char buf[256];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      r.out.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(1000);
    }
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::close(out_);
    pid_ = -1;
    return r;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

/// The name of a test parameterized on the counter's width: counter8, counter4.
inline std::string counter_name(const ::testing::TestParamInfo<unsigned>& p) {
  return "counter" + std::to_string(p.param);
}

}  // namespace fieldfs::seqc
