// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include "core/tree.hpp"
#include "daemon/options.hpp"
#include "daemon/session.hpp"
#include "replica/etcd.hpp"
#include "replica/etcd_kv.hpp"
#include "replica/replica.hpp"

namespace fieldfs {

/// A mount's place in a fleet (-o etcd=, SPEC §9): etcd's client, the replica that writes go
/// through, and the .etcd status view.
class Fleet {
 public:
  /// Joins the fleet before the mount; prints why it cannot (one line) and returns null.
  static std::unique_ptr<Fleet> join(const Options& options, Tree& tree, Segment& segment,
                                     Session& session);
  /// The replica's threads, run beside the request loop.
  Companion companion();

  Fleet(const Options& options, std::vector<std::string> endpoints, Tree& tree, Segment& segment,
        Session& session);

 private:
  Etcd etcd_;
  EtcdKeyValue kv_;
  Replica replica_;
};

/// The fleet's key when -o etcd_key= is not given: fieldfs/ and the source's name.
std::string default_etcd_key(const std::string& source);

}  // namespace fieldfs
