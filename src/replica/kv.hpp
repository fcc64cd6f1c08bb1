// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "fieldfs/result.hpp"

namespace fieldfs {

/// A key as the store holds it.
struct KeyState {
  bool exists = false;
  std::string value;
  std::int64_t mod_revision = 0;  ///< the revision of the key's last put
};

/// The outcome of put_if.
struct PutResult {
  bool committed = false;
  std::int64_t revision = 0;  ///< committed: the put's revision
  KeyState current;           ///< not committed: the key as it is now
};

/// What the replica needs of etcd (SPEC §9): a linearizable compare-and-put on one key's
/// revision and a watch of it. The etcd client implements it; tests use a model of it.
class KeyValue {
 public:
  virtual ~KeyValue() = default;
  /// The key now. EIO: no endpoint answered in time.
  virtual Result<KeyState> get(const std::string& key) = 0;
  /// Puts `value` if the key's mod_revision is `expected` (0: the key must not exist). EIO.
  virtual Result<PutResult> put_if(const std::string& key, std::int64_t expected,
                                   const std::string& value) = 0;
  /// Calls on_put for each put of `key` from `from_revision` on, in order, until `stop` is
  /// requested (then returns ok). EIO: the stream broke or could not be opened.
  virtual Result<void> watch(const std::string& key, std::int64_t from_revision,
                             const std::function<void(const KeyState&)>& on_put,
                             std::stop_token stop) = 0;
};

}  // namespace fieldfs
