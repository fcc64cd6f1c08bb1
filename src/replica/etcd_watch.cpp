// SPDX-License-Identifier: MIT
// A watch is one long POST /v3/watch whose reply is a stream of {"result":{...}} lines. It runs
// on a curl multi handle so that the loop can wait for bytes, a stop request (which wakes the
// poll at once) and a liveness probe together: an endpoint that goes silent (SIGSTOP, a cut
// link) keeps its TCP connection open, so after `timeout` without a byte the watch asks the
// same endpoint for the key's count, and a probe that fails or times out ends the watch (EIO).
#include <cerrno>
#include <exception>
#include <string_view>
#include <utility>

#include "replica/etcd.hpp"
#include "replica/etcd_wire.hpp"

namespace fieldfs {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

/// Longest wait in one poll when nothing happens: bounds how late an open deadline is seen.
constexpr int kPollMs = 50;

class WatchStream {
 public:
  WatchStream(std::string endpoint, std::chrono::milliseconds timeout,
              const std::function<void(const EtcdKey&)>& on_put)
      : endpoint_(std::move(endpoint)), timeout_(timeout), on_put_(on_put) {}
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;
  ~WatchStream() {
    curl_multi_remove_handle(multi_, stream_);
    curl_multi_remove_handle(multi_, probe_);
    curl_easy_cleanup(stream_);
    curl_easy_cleanup(probe_);
    curl_multi_cleanup(multi_);
  }

  /// Streams the key (base64) from `from` until stop, the end of the stream (EIO, ESTALE) or
  /// a failed probe (EIO); EIO too if etcd has not confirmed the watch by `open_by`.
  Result<void> run(const std::string& key64, std::int64_t from, Clock::time_point open_by,
                   const std::stop_token& stop);
  /// Whether etcd confirmed the watch (then no other endpoint is tried).
  bool opened() const { return opened_; }
  /// Rethrows what on_put threw, if it did.
  void rethrow() const {
    if (thrown_) std::rethrow_exception(thrown_);
  }

 private:
  static std::size_t on_bytes(char* data, std::size_t size, std::size_t count, void* self);
  bool on_line(std::string_view line);
  /// Calls on_put for each PUT event; false if one is malformed or on_put threw.
  bool deliver(const json& result);
  Result<void> start(CURL* handle, const std::string& path, const std::string& body,
                     std::string* out);
  /// A transfer ended: the stream (the watch is over) or a probe (over if it failed).
  bool finished(const CURLMsg& msg, Result<void>* outcome);

  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  const std::function<void(const EtcdKey&)>& on_put_;
  CURLM* multi_ = curl_multi_init();
  CURL* stream_ = curl_easy_init();
  CURL* probe_ = curl_easy_init();
  std::string pending_;
  std::string stream_body_;
  std::string probe_body_;
  std::string probe_reply_;
  bool opened_ = false;
  bool probing_ = false;
  std::errc ended_ = std::errc::io_error;
  std::exception_ptr thrown_;
  Clock::time_point heard_ = Clock::now();
};

std::size_t WatchStream::on_bytes(char* data, std::size_t size, std::size_t count, void* self) {
  auto& s = *static_cast<WatchStream*>(self);
  s.heard_ = Clock::now();
  s.pending_.append(data, size * count);
  std::size_t begin = 0;
  for (std::size_t nl = s.pending_.find('\n'); nl != std::string::npos;
       nl = s.pending_.find('\n', begin)) {
    const bool go_on = s.on_line(std::string_view(s.pending_).substr(begin, nl - begin));
    begin = nl + 1;
    if (!go_on) return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
  }
  s.pending_.erase(0, begin);
  return size * count;
}

bool WatchStream::on_line(std::string_view line) {
  if (line.find_first_not_of(" \r\t") == std::string_view::npos) return true;
  const json j = json::parse(line, nullptr, false);
  const auto result = j.is_object() ? j.find("result") : j.end();
  if (j.is_discarded() || result == j.end() || !result->is_object()) return false;  // EIO
  if (result->value("created", false)) opened_ = true;
  if (result->value("canceled", false)) {
    if (detail::wire_int(*result, "compact_revision") > 0) ended_ = static_cast<std::errc>(ESTALE);
    return false;
  }
  return deliver(*result);
}

bool WatchStream::deliver(const json& result) {
  const auto events = result.find("events");
  if (events == result.end() || !events->is_array()) return true;
  const json header = result.value("header", json::object());
  for (const json& event : *events) {
    if (event.value("type", "PUT") != "PUT") continue;
    const auto kv = event.find("kv");
    auto key = detail::wire_key(kv == event.end() ? nullptr : &*kv, header);
    if (!key || !key->exists) return false;
    try {
      on_put_(*key);
    } catch (...) {  // no exception may unwind through curl's C frames
      thrown_ = std::current_exception();
      return false;
    }
  }
  return true;
}

Result<void> WatchStream::start(CURL* handle, const std::string& path, const std::string& body,
                                std::string* out) {
  if (multi_ == nullptr || handle == nullptr) return fail(std::errc::not_enough_memory);
  auto ok = detail::prepare_post(handle, endpoint_ + path, body, out);
  if (!ok) return ok;
  if (curl_multi_add_handle(multi_, handle) != CURLM_OK) return fail(std::errc::io_error);
  return {};
}

bool WatchStream::finished(const CURLMsg& msg, Result<void>* outcome) {
  curl_multi_remove_handle(multi_, msg.easy_handle);
  long status = 0;
  curl_easy_getinfo(msg.easy_handle, CURLINFO_RESPONSE_CODE, &status);
  if (msg.easy_handle == probe_ && msg.data.result == CURLE_OK && status == 200) {
    probing_ = false;
    heard_ = Clock::now();
    return false;
  }
  *outcome = fail(msg.easy_handle == stream_ ? ended_ : std::errc::io_error);
  return true;
}

Result<void> WatchStream::run(const std::string& key64, std::int64_t from,
                              Clock::time_point open_by, const std::stop_token& stop) {
  stream_body_ =
      json{{"create_request", {{"key", key64}, {"start_revision", std::to_string(from)}}}}.dump();
  probe_body_ = json{{"key", key64}, {"count_only", true}}.dump();
  auto ok = start(stream_, "/v3/watch", stream_body_, nullptr);
  if (!ok) return ok;
  curl_easy_setopt(stream_, CURLOPT_WRITEFUNCTION, on_bytes);
  curl_easy_setopt(stream_, CURLOPT_WRITEDATA, this);
  const std::stop_callback wake(stop, [this] { curl_multi_wakeup(multi_); });
  while (!stop.stop_requested()) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (const CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      Result<void> outcome;
      if (msg->msg == CURLMSG_DONE && finished(*msg, &outcome)) return outcome;
    }
    const auto now = Clock::now();
    if (!opened_ && now > open_by) return fail(std::errc::io_error);
    if (opened_ && !probing_ && now - heard_ > timeout_) {
      probe_reply_.clear();
      ok = start(probe_, "/v3/kv/range", probe_body_, &probe_reply_);
      if (!ok) return ok;
      curl_easy_setopt(probe_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
      probing_ = true;
    }
    curl_multi_poll(multi_, nullptr, 0, kPollMs, nullptr);
  }
  return {};
}

}  // namespace

Result<void> Etcd::watch(const std::string& key, std::int64_t from_revision,
                         const std::function<void(const EtcdKey&)>& on_put,
                         const std::stop_token& stop) {
  const std::string key64 = detail::base64_encode(key);
  const auto deadline = Clock::now() + timeout_;
  const std::size_t n = endpoints_.size();
  const std::size_t first = preferred_.load();
  for (std::size_t i = 0; i < n && !stop.stop_requested(); ++i) {
    const auto left = deadline - Clock::now();
    if (left.count() <= 0) break;
    const std::size_t at = (first + i) % n;
    WatchStream stream(endpoints_[at], timeout_, on_put);
    auto outcome =
        stream.run(key64, from_revision, Clock::now() + left / static_cast<long>(n - i), stop);
    stream.rethrow();
    if (stream.opened() || stop.stop_requested()) {
      if (stream.opened()) preferred_.store(at);
      return outcome;
    }
  }
  if (stop.stop_requested()) return {};
  return fail(std::errc::io_error);
}

}  // namespace fieldfs
