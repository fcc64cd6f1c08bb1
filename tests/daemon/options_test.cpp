// SPDX-License-Identifier: MIT
#include "daemon/options.hpp"

#include <fuse_opt.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace fieldfs {
namespace {

ParsedOptions parse(std::vector<std::string> args) { return parse_options(args); }

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(OptionsTest, TakesSourceAndMountpointAndFlagsAnywhere) {
  auto r = parse({"-f", "such_foo", "-s", "/mnt/foo", "-d"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.source, "such_foo");
  EXPECT_EQ(r.options.mountpoint, "/mnt/foo");
  EXPECT_TRUE(r.options.foreground);
  EXPECT_TRUE(r.options.single_thread);
  EXPECT_TRUE(r.options.debug);
}

TEST(OptionsTest, ParsesOurOptionsAndPassesFuseOnesOn) {
  auto r = parse({"src", "mnt", "-o", "ro,mode=0640,nocreate,allow_other", "-opoll_ms=5", "-o",
                  "schema=/x.h,struct=foo,include=/inc,fsname=foo"});
  ASSERT_EQ(r.error, "");
  const Options& o = r.options;
  EXPECT_TRUE(o.read_only);
  EXPECT_EQ(o.mode, 0640U);
  EXPECT_FALSE(o.create);
  EXPECT_EQ(o.poll_ms, 5U);
  EXPECT_EQ(o.max_read, 4096U) << "one page unless asked";
  EXPECT_EQ(parse({"a", "b", "-o", "max_read=65536"}).options.max_read, 65536U);
  EXPECT_EQ(o.schema_file, "/x.h");
  EXPECT_EQ(o.struct_name, "foo");
  EXPECT_EQ(o.include_dirs, std::vector<std::string>{"/inc"});
  EXPECT_TRUE(has(o.fuse_options, "allow_other"));
  EXPECT_TRUE(has(o.fuse_options, "default_permissions")) << "allow_other brings it";
  EXPECT_TRUE(has(o.fuse_options, "fsname=foo"));
  EXPECT_TRUE(has(o.fuse_options, "ro")) << "the kernel mount is read-only too";
}

TEST(OptionsTest, AcceptsWhatMountAddsAndDropsWhatMeansNothing) {
  auto r = parse({"such_foo", "/mnt/foo", "-o",
                  "rw,relatime,noatime,dev,suid,nodev,nosuid,exec,noexec,_netdev,nofail,defaults"});
  ASSERT_EQ(r.error, "");
  for (auto dropped : {"rw", "relatime", "noatime", "_netdev", "nofail", "defaults"}) {
    EXPECT_FALSE(has(r.options.fuse_options, dropped)) << dropped;
  }
  EXPECT_TRUE(has(r.options.fuse_options, "nosuid")) << "mount flags libfuse knows go on";
}

TEST(OptionsTest, ExplainsEveryMistakeInOneLine) {
  EXPECT_NE(parse({"such_foo"}).error.find("missing MOUNTPOINT"), std::string::npos);
  EXPECT_NE(parse({}).error.find("missing SOURCE and MOUNTPOINT"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "c"}).error.find("c: unexpected argument"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o", "mode=999"}).error.find("not an octal mode"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o", "mode="}).error.find("not an octal mode"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o", "poll_ms=0"}).error.find("poll_ms"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o", "schema="}).error.find("needs a value"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-x"}).error.find("unknown flag"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o", "max_read=100"}).error.find("max_read"), std::string::npos);
  EXPECT_NE(parse({"a", "b", "-o"}).error.find("needs an option list"), std::string::npos);
  for (auto& r : {parse({"a"}), parse({"a", "b", "-x"}), parse({"a", "b", "c\nd"}),
                  parse({"a", "b", "-o", "mode=\n"})}) {
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
}

TEST(OptionsTest, ModeRefusesSetuidSetgidAndStickyBits) {
  for (auto mode : {"4755", "2755", "1777", "04600", "7777"}) {
    EXPECT_NE(parse({"a", "b", "-o", std::string("mode=") + mode}).error.find("0777"),
              std::string::npos)
        << mode;
  }
  EXPECT_EQ(parse({"a", "b", "-o", "mode=0777"}).options.mode, 0777U);
  EXPECT_FALSE(parse({"a", "b"}).options.allow_foreign_owner);
  EXPECT_TRUE(parse({"a", "b", "-o", "allow_foreign_owner"}).options.allow_foreign_owner);
}

TEST(OptionsTest, OwnerGroupAndUmaskAreOursAndChecked) {
  auto r = parse({"a", "b", "-o", "allow_other,uid=1000,gid=100,umask=027"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.uid, 1000U);
  EXPECT_EQ(r.options.gid, 100U);
  EXPECT_EQ(r.options.umask, 027U);
  for (const auto& item : r.options.fuse_options) {
    EXPECT_FALSE(item.starts_with("uid") || item.starts_with("gid") || item.starts_with("umask"))
        << item << ": libfuse's low-level API refuses it";
  }
  EXPECT_TRUE(has(r.options.fuse_options, "default_permissions")) << "the kernel enforces them";
  auto plain = parse({"a", "b"}).options;
  EXPECT_FALSE(plain.uid) << "the mounting user's, decided at mount time";
  EXPECT_FALSE(plain.gid);
  EXPECT_EQ(plain.umask, 022U);
  for (auto [umask, bits] : {std::pair{"0", 0U}, {"077", 077U}, {"0027", 027U}, {"777", 0777U}}) {
    EXPECT_EQ(parse({"a", "b", "-o", std::string("umask=") + umask}).options.umask, bits) << umask;
  }
  EXPECT_EQ(parse({"a", "b", "-o", "uid=0,gid=4294967294"}).options.gid, 4294967294U);
  for (auto [item, why] :
       {std::pair{"uid=alice", "-o uid=alice: not a user id (a number, e.g. 1000)"},
        {"uid=-1", "-o uid=-1: not a user id (a number, e.g. 1000)"},
        {"uid=4294967295", "-o uid=4294967295: not a user id (a number, e.g. 1000)"},
        {"gid=", "-o gid=: not a group id (a number, e.g. 1000)"},
        {"gid=1.5", "-o gid=1.5: not a group id (a number, e.g. 1000)"},
        {"gid=99999999999", "-o gid=99999999999: not a group id (a number, e.g. 1000)"},
        {"umask=8", "-o umask=8: not an octal mask (e.g. 027)"},
        {"umask", "-o umask: not an octal mask (e.g. 027)"},
        {"umask=01000",
         "-o umask=01000: only permission bits, 0777 at most (no "
         "setuid, setgid or sticky bit)"}}) {
    EXPECT_EQ(parse({"a", "b", "-o", item}).error, why);
  }
}

TEST(OptionsTest, HelpVersionAndLayoutNeedNoMountpoint) {
  EXPECT_EQ(parse({"-h"}).error, "");
  EXPECT_TRUE(parse({"--help"}).options.help);
  EXPECT_TRUE(parse({"-V"}).options.version);
  EXPECT_EQ(parse({"--layout"}).error, "");
  EXPECT_EQ(parse({"--layout", "-o", "schema=x.h"}).options.schema_file, "x.h");
}

TEST(OptionsTest, OneLineEscapesEveryControlCharacter) {
  EXPECT_EQ(one_line("a\nb\tc\x01\x7f\x1b[1m/\xc3\xa9"), "a\\nb\\tc\\x01\\x7f\\x1b[1m/\xc3\xa9")
      << "UTF-8 stays as it is";
}

TEST(OptionsTest, SingleThreadedConflictsWithMoreThreads) {
  auto r = parse({"a", "b", "-s", "-o", "threads=4"});
  EXPECT_NE(r.error.find("-s and -o threads=4 conflict"), std::string::npos) << r.error;
  EXPECT_EQ(parse({"a", "b", "-o", "threads=4", "-s"}).error,
            parse({"a", "b", "-s", "-othreads=4"}).error);
  EXPECT_EQ(parse({"a", "b", "-s", "-o", "threads=1"}).error, "") << "one thread is what -s means";
}

TEST(OptionsTest, ACommaInAValueIsBackslashComma) {
  auto r = parse({"a", "b", "-o", "schema=/etc/a\\,b.h,include=/x\\\\y,fsname=p\\054q\\,r"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.options.schema_file, "/etc/a,b.h");
  EXPECT_EQ(r.options.include_dirs, std::vector<std::string>{"/x\\y"});
  EXPECT_EQ(r.options.fuse_options, std::vector<std::string>{"fsname=p,q,r"});
  EXPECT_EQ(join_options({"fsname=p,q\\r", "ro"}), "fsname=p\\,q\\\\r,ro");
}

/// The items libfuse's own parser (fuse_opt_parse) splits `-o list` into: the oracle.
std::vector<std::string> libfuse_items(const std::string& list) {
  std::vector<std::string> items;
  std::string opt = "-o";
  std::string copy = list;
  char* argv[] = {opt.data(), opt.data(), copy.data()};
  fuse_args args = FUSE_ARGS_INIT(3, argv);
  auto collect = [](void* data, const char* arg, int key, fuse_args*) {
    if (key == FUSE_OPT_KEY_OPT && *arg != '\0')
      static_cast<std::vector<std::string>*>(data)->push_back(arg);
    return 0;
  };
  EXPECT_EQ(fuse_opt_parse(&args, &items, nullptr, collect), 0) << list;
  fuse_opt_free_args(&args);
  return items;
}

TEST(OptionsTest, SplitsOptionListsAsLibfuseDoesAndJoinsThemBack) {
  // Keys of q, z, digits and '=' are none of ours: every item passes on to libfuse as parsed.
  const std::string alphabet = "qz=,\\\\0123457";
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string list;
    std::size_t n = rng() % 12;
    for (std::size_t i = 0; i < n; ++i) list += alphabet[rng() % alphabet.size()];
    auto ours = parse({"a", "b", "-o", list});
    ASSERT_EQ(ours.error, "") << list;
    auto theirs = libfuse_items(list);
    ASSERT_EQ(ours.options.fuse_options, theirs) << "-o " << list;
    ASSERT_EQ(libfuse_items(join_options(ours.options.fuse_options)), theirs) << "-o " << list;
  }
}

}  // namespace
}  // namespace fieldfs
