// SPDX-License-Identifier: MIT
#include "replica/replica.hpp"

#include <algorithm>

#include "replica/document.hpp"

namespace fieldfs {

namespace {

/// A field write that keeps losing the race to other hosts gives up with EAGAIN after this many.
constexpr int kAttempts = 64;

/// Sleeps `d`, or less if `stop` is requested.
void rest(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace

Replica::Replica(Tree& tree, Segment& segment, KeyValue& kv, ReplicaOptions options)
    : tree_(tree),
      segment_(segment),
      kv_(kv),
      options_(std::move(options)),
      fingerprint_(schema_fingerprint(tree.schema())) {}

Replica::~Replica() { stop(); }

Result<std::string> Replica::local_image() const {
  Result<std::string> image = fail(std::errc::io_error);
  auto read = tree_.sections().read([&]() -> Result<void> {
    image = render_raw(tree_.schema(), segment_);
    return image ? Result<void>{} : Error{image.error()};
  });
  if (!read) return Error{read.error()};
  return image;
}

void Replica::contact(bool ok) {
  if (connected_.exchange(ok) == ok || !started_) return;  // joining is not a transition
  options_.log(ok ? "etcd: connected again (key " + options_.key + ")"
                  : "etcd: no endpoint answers; reads serve the last state applied, writes fail "
                    "with EIO (key " +
                        options_.key + ")");
}

std::string Replica::join() {
  std::lock_guard lock(mutex_);
  auto image = local_image();
  if (!image) return "etcd: cannot read the segment: " + errno_text(to_errno(image.error()));
  known_ = std::move(*image);
  auto key = kv_.get(options_.key);
  if (key && !key->exists) {
    auto doc = fleet_document(tree_.schema(), known_, tree_.sections().counter(), fingerprint_);
    if (!doc) return "etcd: cannot render the state: " + errno_text(to_errno(doc.error()));
    auto put = kv_.put_if(options_.key, 0, *doc);
    if (put && put->committed) {
      applied_ = put->revision;
      newest_ = put->revision;
      contact(true);
      return "";
    }
    key = put ? Result<KeyState>(put->current) : Error{put.error()};
  }
  if (!key) return "etcd: no endpoint answered for key " + options_.key;
  auto doc = parse_fleet_document(key->value);
  if (!doc) return "etcd key " + options_.key + " holds something other than a fieldfs struct";
  if (doc->fingerprint != fingerprint_) {
    return "etcd key " + options_.key + " holds another struct (schema " + doc->fingerprint +
           ", this host's is " + fingerprint_ + "): refusing to join";
  }
  if (auto ok = apply(*key); !ok) {
    return "etcd key " + options_.key +
           ": cannot apply its state here: " + errno_text(to_errno(ok.error()));
  }
  contact(true);
  return "";
}

Result<void> Replica::apply(const KeyState& key) {
  newest_ = std::max(newest_.load(), key.mod_revision);
  if (!key.exists || key.mod_revision <= applied_) return {};
  auto doc = parse_fleet_document(key.value);
  if (!doc || doc->fingerprint != fingerprint_) return fail(std::errc::invalid_argument);
  auto stores = json_stores(tree_.schema(), segment_, doc->state, ConstFields::skip);
  if (!stores) return Error{stores.error()};
  if (!*stores) return fail(std::errc::invalid_argument);
  std::string fleet = known_;
  apply_stores(fleet, **stores);
  auto changed = changed_fields(tree_.schema(), known_, fleet, tree_.sections().counter());
  if (!changed.empty()) {
    auto stored =
        tree_.sections().write([&] { return store_fields(tree_.schema(), segment_, changed); });
    if (!stored) return stored;
  }
  known_ = std::move(fleet);
  applied_ = key.mod_revision;
  if (!changed.empty()) options_.changed();
  return {};
}

Result<bool> Replica::publish(const std::vector<FieldStore>& stores, bool store_locally) {
  std::string next = known_;
  apply_stores(next, stores);
  auto doc = fleet_document(tree_.schema(), next, tree_.sections().counter(), fingerprint_);
  if (!doc) return Error{doc.error()};
  auto put = kv_.put_if(options_.key, applied_, *doc);
  contact(put.has_value());
  if (!put) return fail(std::errc::io_error);
  if (!put->committed) {
    if (auto ok = apply(put->current); !ok) return Error{ok.error()};
    return false;
  }
  if (store_locally) {
    auto stored =
        tree_.sections().write([&] { return store_fields(tree_.schema(), segment_, stores); });
    if (!stored) return Error{stored.error()};
    options_.changed();
  }
  known_ = std::move(next);
  applied_ = put->revision;
  newest_ = std::max(newest_.load(), put->revision);
  return true;
}

Result<void> Replica::commit(const std::vector<FieldStore>& stores,
                             std::optional<std::uint64_t> expected) {
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (expected) {
      const Leaf* counter = tree_.sections().counter();
      auto image = local_image();
      if (!image) return Error{image.error()};
      if (counter == nullptr || counter_value(std::string_view(*image).substr(
                                    counter->offset, counter->size)) != *expected) {
        return fail(std::errc::resource_unavailable_try_again);
      }
    }
    auto done = publish(stores, true);
    if (!done) return Error{done.error()};
    if (*done) return {};
    if (expected) return fail(std::errc::resource_unavailable_try_again);
  }
  return fail(std::errc::resource_unavailable_try_again);
}

void Replica::publish_mapping_stores() {
  auto image = local_image();
  if (!image) return;
  auto stores = changed_fields(tree_.schema(), known_, *image, tree_.sections().counter());
  if (stores.empty() || !connected_) return;  // pending until etcd answers again
  (void)publish(stores, false);  // not committed: the newer state is applied; next round again
}

void Replica::start() {
  started_ = true;
  watcher_ = std::jthread([this](const std::stop_token& stop) { watch_loop(stop); });
  checker_ = std::jthread([this](const std::stop_token& stop) { check_loop(stop); });
}

void Replica::stop() {
  for (auto* t : {&watcher_, &checker_}) {
    if (!t->joinable()) continue;
    t->request_stop();
    {
      std::lock_guard lock(watch_mutex_);
      watch_stop_.request_stop();
    }
    t->join();
  }
}

void Replica::watch_loop(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    std::int64_t from = 0;
    {
      std::lock_guard lock(mutex_);
      from = applied_ + 1;
    }
    std::stop_source mine;
    {
      std::lock_guard lock(watch_mutex_);
      watch_stop_ = mine;
    }
    std::stop_callback forward(stop, [&] { mine.request_stop(); });
    auto watched = kv_.watch(
        options_.key, from,
        [&](const KeyState& key) {
          contact(true);
          std::lock_guard lock(mutex_);
          (void)apply(key);
        },
        mine.get_token());
    if (stop.stop_requested()) break;
    if (!watched) rest(options_.retry, stop);
  }
}

void Replica::check_loop(const std::stop_token& stop) {
  auto next_check = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    rest(options_.sample, stop);
    {
      std::lock_guard lock(mutex_);
      publish_mapping_stores();
    }
    auto now = std::chrono::steady_clock::now();
    if (now < next_check) continue;
    bool was = connected_;
    auto key = kv_.get(options_.key);
    contact(key.has_value());
    next_check = now + (key ? options_.check : options_.retry);
    if (key) {
      std::lock_guard lock(mutex_);
      (void)apply(*key);  // converges even while the watch lags or is stuck on a dead member
    }
    if (was != key.has_value()) {  // a transition: the watch starts again from what is applied
      std::lock_guard lock(watch_mutex_);
      watch_stop_.request_stop();
    }
  }
}

std::string Replica::status() const {
  std::int64_t applied = 0;
  {
    std::lock_guard lock(mutex_);
    applied = applied_;
  }
  std::int64_t newest = std::max(newest_.load(), applied);
  return std::string("connected: ") + (connected_ ? "yes" : "no") + "\nkey: " + options_.key +
         "\nrevision: " + std::to_string(applied) + "\nnewest: " + std::to_string(newest) +
         "\nlag: " + std::to_string(newest - applied) + "\n";
}

}  // namespace fieldfs
