// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fieldfs::test {

/// What a command printed and how it ended.
struct Outcome {
  int status = -1;  ///< exit status; 128+N when killed by signal N; -1 on timeout
  std::string out;
  std::string err;
};

/// Runs `command` with /bin/sh -c, capturing both streams; killed after `timeout_s` seconds.
Outcome sh(const std::string& command, int timeout_s = 30);

/// A shell-quoted word.
std::string quote(const std::string& s);

/// The built fieldfs binary and the source tree, set by CMake.
const char* fieldfs_binary();
const char* source_dir();

/// A unique name for a shm segment or directory in this test.
std::string unique_name(const std::string& stem);

/// A running `fieldfs -f SOURCE DIR ARGS...` on a fresh temporary directory. The destructor
/// unmounts (fusermount3 -u, then -uz), reaps the daemon (SIGKILL if it will not go) and
/// removes the directory and the shm segment it named, even when the test failed.
class Mount {
 public:
  /// Starts the daemon and waits until the directory is mounted. `source` "" picks a fresh
  /// shm name; `keep_segment` leaves the segment behind (for tests that reuse it).
  explicit Mount(std::vector<std::string> args = {}, std::string source = "",
                 bool keep_segment = false);
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount();

  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }
  const std::string& source() const { return source_; }
  pid_t pid() const { return pid_; }
  /// dir()/name
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  /// What the daemon printed on stderr so far.
  std::string daemon_stderr() const;

  /// Unmounts and reaps the daemon; returns its exit status (0 on a clean stop).
  int stop();
  /// Sends a signal and reaps the daemon; returns its exit status.
  int signal_and_wait(int sig);

  /// The whole struct as mapped by another process (the shm segment or the backing file).
  void* map(std::size_t size);

 private:
  int reap(int timeout_ms);

  std::string dir_;
  std::string source_;
  std::string log_;
  std::string segment_path_;
  bool keep_segment_;
  pid_t pid_ = -1;
  bool mounted_ = false;
  int status_ = -1;
  std::vector<std::pair<void*, std::size_t>> maps_;
};

/// Whether `dir` is a mount point right now.
bool is_mounted(const std::string& dir);

/// How many processes have `arg` as one of their arguments (a daemon serving a mountpoint).
int processes_with_argument(const std::string& arg);

/// The text of a file, or "<errno N>" if it cannot be read.
std::string slurp(const std::string& path);

}  // namespace fieldfs::test
