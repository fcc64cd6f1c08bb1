// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "replica/etcd.hpp"

namespace fieldfs::test {

/// A TCP port of 127.0.0.1 held bound (SO_REUSEADDR, not listening) while this lives: no other
/// bind(0) gets it, a connect to it is refused, and a server with SO_REUSEADDR (etcd) can take it.
class ReservedPort {
 public:
  ReservedPort();
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
  ~ReservedPort();
  /// "http://127.0.0.1:PORT"
  std::string url() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// A real single-member etcd on free ports of 127.0.0.1 with a temporary data directory. The
/// destructor stops it by PID (SIGCONT, SIGTERM, SIGKILL after 5 s) and removes the directory,
/// even when the test failed; the child dies with the test process (PR_SET_PDEATHSIG).
class EtcdServer {
 public:
  EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;
  ~EtcdServer();

  /// Whether it answered a request within 20 s of its start and is still running.
  bool ready() const { return ready_; }
  /// "http://127.0.0.1:PORT"
  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }
  /// What etcd logged (for failure messages).
  std::string log() const;
  /// Stops it for good (SIGKILL, reaped).
  void kill_now();

 private:
  std::string dir_;
  std::string url_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

/// Output of `etcdctl --endpoints URL ARGS` (ARGS shell words), bounded to 10 s; "" + status
/// in *status.
std::string etcdctl(const std::string& url, const std::string& args, int* status = nullptr);

/// A shell-quoted word.
std::string quote(const std::string& s);

/// One etcd for the tests that do not stop it, started on first use, stopped at exit.
EtcdServer& shared_etcd();

/// A key no other test uses: "/fieldfs-test/<test name>/<name>".
std::string test_key(const std::string& name);

/// What a watch delivered, for a test thread to wait on.
class Collector {
 public:
  /// on_put for Etcd::watch.
  void add(const EtcdKey& key);
  /// Waits up to `bound` for `n` keys; a copy of what came.
  std::vector<EtcdKey> wait_for(std::size_t n, std::chrono::milliseconds bound);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<EtcdKey> keys_;
};

}  // namespace fieldfs::test
