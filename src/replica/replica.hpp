// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/tree.hpp"
#include "replica/kv.hpp"

namespace fieldfs {

/// How a mount takes part in a fleet (-o etcd=, etcd_key=).
struct ReplicaOptions {
  std::string key;                        ///< the fleet's key in etcd
  std::chrono::milliseconds sample{10};   ///< how often the mapping is compared (poll_ms)
  std::chrono::milliseconds check{500};   ///< how often etcd is asked for the key anyway
  std::chrono::milliseconds retry{200};   ///< between attempts while etcd is unreachable
  std::function<void()> changed = [] {};  ///< the segment changed: wake pollers
  std::function<void(const std::string&)> log = [](const std::string&) {};  ///< transitions
};

/// This host's replica of the fleet's struct (SPEC §9). The state lives in etcd as the struct's
/// .json form with the schema's fingerprint; the local segment holds a replica of it. Writes
/// through the mount commit to etcd first (a compare-and-put on the key's revision), then apply
/// locally as one section; updates from etcd apply as one section each; stores made directly to
/// the mapping are found by sampling and published. Fields are compared with `known_`, the fleet's
/// state at the revision this host last applied, so that a remote update changes only the fields
/// it changed, and a local store not yet published survives it.
class Replica final : public Writes {
 public:
  Replica(Tree& tree, Segment& segment, KeyValue& kv, ReplicaOptions options);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  ~Replica() override;

  /// Joins the fleet before the mount: creates the key from the local state if it is missing,
  /// else refuses another schema and applies the fleet's state. Returns why it cannot join
  /// (one line), or "".
  std::string join();
  /// Starts the threads that watch etcd and publish the mapping's stores (after detaching).
  void start();
  void stop();

  /// A write through the mount: committed to etcd, then applied locally. Re-applied onto a newer
  /// state when another host wrote first, unless it is a compare-and-set (`expected`): EAGAIN.
  /// EIO: etcd unreachable (nothing changed).
  Result<void> commit(const std::vector<FieldStore>& stores,
                      std::optional<std::uint64_t> expected) override;

  /// What the mount's .etcd shows: connected or not, the key, the revision applied, the newest
  /// revision seen, and the lag between them (in revisions).
  std::string status() const;

 private:
  /// Puts known_ with `stores` applied as the key's next revision, and on success stores them in
  /// the segment too if `store_locally` (caller holds mutex_). Not committed: the newer state is
  /// applied, and false returned. EIO: etcd unreachable.
  Result<bool> publish(const std::vector<FieldStore>& stores, bool store_locally);
  /// Applies the fleet's state `key` if newer than what was applied (caller holds mutex_).
  Result<void> apply(const KeyState& key);
  /// The local segment's image, as one snapshot.
  Result<std::string> local_image() const;
  void contact(bool ok);
  void watch_loop(const std::stop_token& stop);
  void check_loop(const std::stop_token& stop);
  /// Publishes what the mapping stored since known_ (caller holds mutex_).
  void publish_mapping_stores();

  Tree& tree_;
  Segment& segment_;
  KeyValue& kv_;
  ReplicaOptions options_;
  std::string fingerprint_;
  mutable std::mutex mutex_;  ///< everything below: one change of the replica at a time
  std::string known_;         ///< the fleet's state at applied_, as this host's image
  std::int64_t applied_ = 0;  ///< the key's revision known_ is
  std::atomic<std::int64_t> newest_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> started_{false};  ///< transitions are logged from start() on
  std::stop_source watch_stop_;       ///< replaced each time the watch is restarted
  std::mutex watch_mutex_;
  std::jthread watcher_;
  std::jthread checker_;
};

}  // namespace fieldfs
