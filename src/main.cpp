// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "fieldfs/schema.hpp"
#include "fieldfs/segment.hpp"
#include "fieldfs/tree.hpp"
#include "options.hpp"
#include "session.hpp"
#include "startup.hpp"

int main(int argc, char** argv) {
  using namespace fieldfs;
  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  const Options& o = parsed.options;
  if (!parsed.error.empty()) return startup_failure(parsed.error);
  if (o.help) return std::fputs(usage_text().c_str(), stdout), 0;
  if (o.version) return std::printf("fieldfs %s (libfuse %s)\n", kVersion, fuse_version_text()), 0;

  auto schema = load_schema(o);
  if (!schema) return 1;
  if (o.layout) return std::fputs(layout_text(*schema).c_str(), stdout), 0;

  if (auto why = check_mountpoint(o.mountpoint); !why.empty()) return startup_failure(why);
  auto segment = open_segment(o, schema->size());
  if (!segment) return 1;
  Tree tree(*schema, *segment, o.read_only);
  return serve(tree, o);
}
