// SPDX-License-Identifier: MIT
#pragma once

#include "replica/etcd.hpp"
#include "replica/kv.hpp"

namespace fieldfs {

/// The replica's view of etcd (KeyValue) through the gateway client.
class EtcdKeyValue final : public KeyValue {
 public:
  explicit EtcdKeyValue(Etcd& etcd) : etcd_(etcd) {}

  Result<KeyState> get(const std::string& key) override {
    auto k = etcd_.get(key);
    if (!k) return fail(std::errc::io_error);
    return state(*k);
  }
  Result<PutResult> put_if(const std::string& key, std::int64_t expected,
                           const std::string& value) override {
    auto t = etcd_.put_if(key, expected, value);
    if (!t) return fail(std::errc::io_error);  // ETIMEDOUT too: the watch tells what happened
    return PutResult{t->committed, t->revision, state(t->current)};
  }
  Result<void> watch(const std::string& key, std::int64_t from_revision,
                     const std::function<void(const KeyState&)>& on_put,
                     std::stop_token stop) override {
    return etcd_.watch(
        key, from_revision, [&](const EtcdKey& k) { on_put(state(k)); }, stop);
  }

 private:
  static KeyState state(const EtcdKey& k) { return KeyState{k.exists, k.value, k.mod_revision}; }
  Etcd& etcd_;
};

}  // namespace fieldfs
