// SPDX-License-Identifier: MIT
#include "etcd_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "replica/etcd.hpp"

namespace fieldfs::test {
namespace {

using namespace std::chrono_literals;

/// Waits up to `bound` for the child to exit; true if it was reaped.
bool reap(pid_t pid, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

ReservedPort::ReservedPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  const int on = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port_ = ntohs(a.sin_port);
  }
}

ReservedPort::~ReservedPort() {
  if (fd_ >= 0) close(fd_);
}

std::string ReservedPort::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

EtcdServer::EtcdServer() {
  char tmpl[] = "/tmp/fieldfs-etcd-XXXXXX";
  dir_ = mkdtemp(tmpl);
  const ReservedPort client_port;  // held until etcd answers, so no other test takes them
  const ReservedPort peer_port;
  const std::string peer = peer_port.url();
  url_ = client_port.url();
  std::vector<std::string> args = {FIELDFS_ETCD,
                                   "--data-dir",
                                   dir_ + "/data",
                                   "--listen-client-urls",
                                   url_,
                                   "--advertise-client-urls",
                                   url_,
                                   "--listen-peer-urls",
                                   peer,
                                   "--initial-advertise-peer-urls",
                                   peer,
                                   "--initial-cluster",
                                   "default=" + peer};
  const std::string log = dir_ + "/log";
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::freopen(log.c_str(), "w", stdout);
    std::freopen(log.c_str(), "a", stderr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Etcd probe({url_}, 300ms);
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!ready_ && std::chrono::steady_clock::now() < until) {
    // Answered, and by this child: if the ports were taken anyway, etcd exits.
    ready_ = probe.get("ready").has_value() && waitpid(pid_, nullptr, WNOHANG) == 0;
    if (!ready_) std::this_thread::sleep_for(50ms);
  }
}

EtcdServer::~EtcdServer() {
  if (pid_ > 0) {
    kill(pid_, SIGCONT);
    kill(pid_, SIGTERM);
    if (!reap(pid_, 5s)) kill_now();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void EtcdServer::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string EtcdServer::log() const {
  std::ifstream in(dir_ + "/log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string etcdctl(const std::string& url, const std::string& args, int* status) {
  const std::string command =
      "ETCDCTL_API=3 timeout 10 " FIELDFS_ETCDCTL " --endpoints " + url + " " + args;
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = pclose(p);
  if (status != nullptr) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

EtcdServer& shared_etcd() {
  static EtcdServer server;
  return server;
}

std::string test_key(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("/fieldfs-test/") + info->test_suite_name() + "." + info->name() + "/" + name;
}

void Collector::add(const EtcdKey& key) {
  const std::lock_guard lock(mutex_);
  keys_.push_back(key);
  changed_.notify_all();
}

std::vector<EtcdKey> Collector::wait_for(std::size_t n, std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, bound, [&] { return keys_.size() >= n; });
  return keys_;
}

}  // namespace fieldfs::test
