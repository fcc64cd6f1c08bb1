// SPDX-License-Identifier: MIT
#include "replica/etcd.hpp"

#include <algorithm>
#include <utility>

#include "replica/etcd_wire.hpp"

namespace fieldfs {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

/// curl_global_init is not thread-safe before 7.84 everywhere: run it once, first.
void init_curl_once() {
  static const bool done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)done;
}

/// Whether a failed transfer may have reached etcd (then a put may have committed).
bool maybe_sent(CURL* handle, CURLcode rc) {
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) return false;
  curl_off_t pretransfer = 0;
  curl_easy_getinfo(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  return pretransfer > 0;
}

/// An error the gateway returned for a txn that etcd may still commit.
bool ambiguous_error(const std::string& body) {
  return body.find("timed out") != std::string::npos ||
         body.find("leader changed") != std::string::npos;
}

Result<json> parse(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(std::errc::protocol_error);
  return j;
}

}  // namespace

Etcd::Etcd(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {
  init_curl_once();
}

Etcd::~Etcd() {
  for (void* h : pool_) curl_easy_cleanup(h);
}

void* Etcd::borrow() {
  {
    const std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      void* h = pool_.back();
      pool_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void Etcd::give_back(void* handle) {
  const std::lock_guard lock(pool_mutex_);
  pool_.push_back(handle);
}

Result<std::string> Etcd::call(const char* path, const std::string& body, bool idempotent) {
  const auto deadline = Clock::now() + timeout_;
  CURL* h = borrow();
  if (h == nullptr) return fail(std::errc::not_enough_memory);
  const std::size_t n = endpoints_.size();
  const std::size_t first = preferred_.load();
  for (std::size_t i = 0; i < n; ++i) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    const std::size_t at = (first + i) % n;
    std::string out;
    if (!detail::prepare_post(h, endpoints_[at] + path, body, &out)) break;
    // Each endpoint left gets a fair share, so one that hangs cannot starve the others.
    const long share = std::max(1L, static_cast<long>(left.count()) / static_cast<long>(n - i));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, share);
    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200) {
      preferred_.store(at);
      give_back(h);
      return out;
    }
    const bool unsure = rc == CURLE_OK ? ambiguous_error(out) : maybe_sent(h, rc);
    if (!idempotent && unsure) {
      give_back(h);
      return fail(std::errc::timed_out);
    }
  }
  give_back(h);
  return fail(std::errc::io_error);
}

Result<EtcdKey> Etcd::get(const std::string& key) {
  const json request = {{"key", detail::base64_encode(key)}};
  auto body = call("/v3/kv/range", request.dump(), true);
  if (!body) return fail(body.error());
  auto reply = parse(*body);
  if (!reply) return fail(reply.error());
  const auto kvs = reply->find("kvs");
  const bool found = kvs != reply->end() && kvs->is_array() && !kvs->empty();
  return detail::wire_key(found ? &(*kvs)[0] : nullptr, reply->value("header", json::object()));
}

Result<EtcdTxn> Etcd::put_if(const std::string& key, std::int64_t expected,
                             const std::string& value) {
  const std::string k = detail::base64_encode(key);
  const json request = {
      {"compare", json::array({{{"key", k},
                                {"target", "MOD"},
                                {"result", "EQUAL"},
                                {"mod_revision", std::to_string(expected)}}})},
      {"success",
       json::array({{{"request_put", {{"key", k}, {"value", detail::base64_encode(value)}}}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  auto body = call("/v3/kv/txn", request.dump(), false);
  if (!body) return fail(body.error());
  auto reply = parse(*body);
  if (!reply) return fail(reply.error());
  const json header = reply->value("header", json::object());
  EtcdTxn txn;
  txn.committed = reply->value("succeeded", false);
  txn.revision = detail::wire_int(header, "revision");
  if (txn.committed) {
    txn.current = EtcdKey{true, value, txn.revision, txn.revision};
    return txn;
  }
  // {"responses":[{"response_range":{"kvs":[KV]}}]}, the kvs left out when the key has none.
  const json* kv = nullptr;
  const json::json_pointer at("/responses/0/response_range/kvs/0");
  if (reply->contains(at)) kv = &reply->at(at);
  auto current = detail::wire_key(kv, header);
  if (!current) return fail(current.error());
  txn.current = std::move(*current);
  return txn;
}

}  // namespace fieldfs
