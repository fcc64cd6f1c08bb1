// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "fieldfs/result.hpp"

namespace fieldfs {

/// One key as etcd holds it: `revision` is the store's revision in the response's header.
struct EtcdKey {
  bool exists = false;
  std::string value;
  std::int64_t mod_revision = 0;
  std::int64_t revision = 0;
};

/// What a put_if did: committed at `revision`, or not, and then `current` is the key now.
struct EtcdTxn {
  bool committed = false;
  std::int64_t revision = 0;
  EtcdKey current;
};

/// A client of etcd's v3 JSON gateway (HTTP POST /v3/kv/..., /v3/watch) over libcurl.
/// Thread-safe: each call borrows an easy handle from a pool (so connections are reused) and
/// several threads may call one object at once; a watch uses handles of its own.
class Etcd {
 public:
  /// endpoints: "http://10.0.0.1:2379" ...; every call tries them in turn, starting with the last
  /// one that answered, within `timeout` overall.
  Etcd(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  Etcd(const Etcd&) = delete;
  Etcd& operator=(const Etcd&) = delete;
  ~Etcd();

  /// The key's value; exists=false if it has none. EIO: no endpoint answered within the timeout.
  Result<EtcdKey> get(const std::string& key);
  /// Puts `value` if the key's mod_revision is `expected` (0: the key must not exist).
  /// EIO: no endpoint took the request; ETIMEDOUT: one took it and did not answer in time, so
  /// the put may or may not have committed (get() tells).
  Result<EtcdTxn> put_if(const std::string& key, std::int64_t expected, const std::string& value);
  /// Streams the key's PUT events from `from_revision` (inclusive) to on_put, in order, until
  /// `stop` (returns within ~50 ms, no error). EIO: no endpoint opened the watch within the
  /// timeout, or the stream broke, or the endpoint stopped answering a liveness probe sent
  /// after `timeout` of silence (so a silent endpoint is found within ~2 x timeout); resume
  /// from the last revision + 1. ESTALE: from_revision was compacted; get() and resume.
  /// Deletes are not reported. An exception from on_put ends the watch and propagates.
  Result<void> watch(const std::string& key, std::int64_t from_revision,
                     const std::function<void(const EtcdKey&)>& on_put,
                     const std::stop_token& stop);

 private:
  /// The body of a 200 reply to POST `path`; see put_if for EIO and ETIMEDOUT.
  Result<std::string> call(const char* path, const std::string& body, bool idempotent);
  void* borrow();
  void give_back(void* handle);

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  std::atomic<std::size_t> preferred_{0};
  std::mutex pool_mutex_;
  std::vector<void*> pool_;
};

}  // namespace fieldfs
