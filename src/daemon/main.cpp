// SPDX-License-Identifier: MIT
// What an invocation checks, in the order that lets a failure leave no trace: the options and the
// schema, the mountpoint, libfuse's options; only then is the segment opened (perhaps created),
// and it is removed again if this invocation created it and the mount then fails.
#include <cstdio>
#include <string>
#include <vector>

#include "core/tree.hpp"
#include "daemon/fleet.hpp"
#include "daemon/mountpoint.hpp"
#include "daemon/options.hpp"
#include "daemon/session.hpp"
#include "daemon/startup.hpp"
#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"

int main(int argc, char** argv) {
  using namespace fieldfs;
  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  Options& o = parsed.options;
  if (!parsed.error.empty()) return startup_failure(parsed.error);
  if (o.help) return std::fputs(usage_text().c_str(), stdout), 0;
  if (o.version) return std::printf("fieldfs %s (libfuse %s)\n", kVersion, fuse_version_text()), 0;

  auto schema = load_schema(o);
  if (!schema) return 1;
  auto consistency = consistency_of(o, *schema);
  if (!consistency) return 1;
  if (o.layout) return std::fputs(layout_text(*schema).c_str(), stdout), 0;

  auto mountpoint = check_mountpoint(o.mountpoint);
  if (!mountpoint.error.empty()) return startup_failure(mountpoint.error);
  o.mountpoint = mountpoint.path;
  auto session = Session::create(o);
  if (!session) return 1;

  bool existed = segment_exists(o.source);
  auto segment = open_segment(o, schema->size());
  if (!segment) {
    if (!existed) remove_segment(o.source, true);  // created, then refused half-way
    return 1;
  }
  Ownership owner = Ownership::of_process();
  owner = {o.uid.value_or(owner.uid), o.gid.value_or(owner.gid), o.umask};
  Tree tree(*schema, *segment, o.read_only, owner, *consistency);
  log_stuck_counter(tree.sections(), o);
  std::unique_ptr<Fleet> fleet;
  if (!o.etcd.empty() && !(fleet = Fleet::join(o, tree, *segment, *session))) {
    if (segment->created()) remove_segment(o.source, false);
    return 1;
  }
  int status = session->serve(tree, fleet ? fleet->companion() : Companion{});
  if (!session->mounted() && segment->created()) remove_segment(o.source, false);
  return status;
}
