// SPDX-License-Identifier: MIT
#include "daemon/fleet.hpp"

#include "daemon/log.hpp"
#include "daemon/startup.hpp"

namespace fieldfs {

namespace {

/// The URLs of -o etcd=, which libfuse's option syntax gave with their commas unescaped.
std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    auto comma = list.find(',', at);
    auto url = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!url.empty()) out.push_back(url);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

ReplicaOptions replica_options(const Options& o, Session& session) {
  ReplicaOptions r;
  r.key = o.etcd_key.empty() ? default_etcd_key(o.source) : o.etcd_key;
  r.sample = std::chrono::milliseconds(o.poll_ms);
  r.changed = [&session] { session.kick(); };
  r.log = [label = segment_label(o.source)](const std::string& line) {
    log_line("segment " + label + ": " + line);
  };
  return r;
}

}  // namespace

std::string default_etcd_key(const std::string& source) {
  std::string name = source;
  for (const char* prefix : {"shm:", "file:"}) {
    if (name.starts_with(prefix)) name.erase(0, std::string_view(prefix).size());
  }
  while (name.starts_with('/')) name.erase(0, 1);
  return "fieldfs/" + name;
}

Fleet::Fleet(const Options& options, std::vector<std::string> endpoints, Tree& tree,
             Segment& segment, Session& session)
    : etcd_(std::move(endpoints), std::chrono::milliseconds(options.etcd_timeout_ms)),
      kv_(etcd_),
      replica_(tree, segment, kv_, replica_options(options, session)) {}

std::unique_ptr<Fleet> Fleet::join(const Options& o, Tree& tree, Segment& segment,
                                   Session& session) {
  auto endpoints = split_endpoints(o.etcd);
  for (const auto& url : endpoints) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      startup_failure("-o etcd=" + o.etcd + ": " + url + " is not an http:// URL");
      return nullptr;
    }
  }
  auto fleet = std::make_unique<Fleet>(o, std::move(endpoints), tree, segment, session);
  if (auto why = fleet->replica_.join(); !why.empty()) {
    startup_failure(why);
    return nullptr;
  }
  tree.route_writes(&fleet->replica_);
  tree.show_status([r = &fleet->replica_] { return r->status(); });
  return fleet;
}

Companion Fleet::companion() {
  return Companion{[this] { replica_.start(); }, [this] { replica_.stop(); }};
}

}  // namespace fieldfs
