// SPDX-License-Identifier: MIT
// Writing the views and the field files as shells, dd, Python and Node do it (SPEC §3, §5): .json
// documents with escaped quotes, split across writes and forks, followed by a newline in a later
// write, appended with >>; numbers beyond double's range; st_size as an upper bound for the tools
// that read at most st_size bytes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fixture.hpp"
#include "header/header_schema.hpp"

namespace fieldfs::test {
namespace {

/// errno of the first failing write of `parts`, in order on one descriptor, or of its close.
int writes_errno(const std::string& path, const std::vector<std::string>& parts) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  int e = 0;
  for (const auto& p : parts) {
    if (e == 0 && ::write(fd, p.data(), p.size()) < 0) e = errno;
  }
  if (::close(fd) != 0 && e == 0) e = errno;
  return e;
}

constexpr std::size_t kBig = 8192;

/// A struct of its own: strings, a double, and a char[8192] that makes .json longer than 4096.
class WriteViews : public MountTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fieldfs-wv-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sh("printf '%s' " +
       quote("#include <stdint.h>\nstruct w { char name[32]; double temperature; int32_t n; "
             "char big[8192]; int32_t list[600]; };\n") +
       " > " + quote(dir_ + "/w.h"));
    start({"-o", "schema=" + dir_ + "/w.h"});
  }
  void TearDown() override {
    MountTest::TearDown();
    sh("rm -rf " + quote(dir_));
  }
  std::string cat(const std::string& name) { return slurp(m_->path(name)); }
  /// Python with `f` open for writing on .json: `code`, then f.close().
  Outcome python_to_json(const std::string& code) {
    return sh("python3 -c " +
              quote("import json, sys; f = open(sys.argv[1], 'w'); " + code + "; f.close()") + " " +
              at(".json"));
  }
  /// The char[8192] field, as another process maps it.
  char* big() {
    auto r = load_header_schema({dir_ + "/w.h", "", {}});
    if (!r.schema) return nullptr;
    return static_cast<char*>(m_->map(r.schema->size())) +
           r.schema->node(*r.schema->find(0, "big")).leaf.offset;
  }
  std::string dir_;
};

TEST_F(WriteViews, JsonTakesEscapedQuotesAndBackslashesFromPrintfAndPython) {
  auto r = sh("printf '%s\\n' '{\"name\": \"a\\\"b\"}' > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("name"), "a\"b\n");
  r = python_to_json("json.dump({'name': 'q\"\\\\z'}, f)");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("name"), "q\"\\z\n");
  // Split right after \": the first write must not be taken as a whole document.
  r = sh("{ printf '%s' '{\"name\": \"c\\\"}'; printf '%s\\n' '\"}'; } > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("name"), "c\"}\n");
  // What .json renders stores back unchanged.
  r = sh("cat " + at(".json") + " > " + quote(dir_ + "/copy") + " && echo x > " + at("name") +
         " && cat " + quote(dir_ + "/copy") + " > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("name"), "c\"}\n");
}

TEST_F(WriteViews, JsonTakesBlanksAndOneNewlineInALaterWrite) {
  auto r = sh("{ printf '{\"n\": 5}'; echo; } > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "5\n");
  r = sh("printf '{\"n\": 6}  \\n' | dd of=" + at(".json") + " bs=1 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(cat("n"), "6\n");
  r = python_to_json("json.dump({'n': 7}, f); f.flush(); f.write('\\n')");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "7\n");
  // Anything else after the document is EINVAL (the document itself was stored).
  r = sh("{ printf '{\"n\": 8}'; printf x; } > " + at(".json"));
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(cat("n"), "8\n");
  EXPECT_EQ(writes_errno(m_->path(".json"), {"{\"n\": 9}", "\n", "x"}), EINVAL);
  EXPECT_EQ(writes_errno(m_->path(".json"), {"{\"n\": 10}", "\n", "\n"}), EINVAL);
  EXPECT_EQ(writes_errno(m_->path(".json"), {"{\"n\": 11}", " \t", "\n", " "}), 0);
  EXPECT_EQ(cat("n"), "11\n");
  EXPECT_EQ(writes_errno(m_->path(".json"), {"{\"n\": 12}\n\n"}), EINVAL);
  EXPECT_EQ(cat("n"), "11\n");
}

TEST_F(WriteViews, AppendingToJsonStartsANewDocument) {
  auto r = sh("echo '{\"n\":3}' >> " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "3\n");
  r = sh("{ echo '{\"n\":4}'; echo '{\"n\":5}' >> " + at(".json") + "; } > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "5\n");
}

TEST_F(WriteViews, ANumberBeyondDoubleIsErangeInJsonAsInTheFieldFile) {
  for (const std::string& text :
       {std::string("1e999"), std::string("-1e999"), std::string(400, '9')}) {
    EXPECT_EQ(writes_errno(m_->path("temperature"), {text + "\n"}), ERANGE) << text;
    EXPECT_EQ(writes_errno(m_->path(".json"), {"{\"temperature\": " + text + "}\n"}), ERANGE)
        << text;
    EXPECT_EQ(writes_errno(m_->path("n"), {text + "\n"}),
              writes_errno(m_->path(".json"), {"{\"n\": " + text + "}\n"}))
        << text;
  }
  EXPECT_EQ(cat("temperature"), "0\n");
}

TEST_F(WriteViews, AForkedChildsCloseDoesNotEndAPendingValue) {
  auto r = sh("{ printf -- -; /bin/true; printf '5\\n'; } > " + at("n"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "-5\n");
  r = sh("{ printf '{\"n\":'; /bin/true; printf ' 6}\\n'; } > " + at(".json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "6\n");
  // head and tail are forked children: each exits (a FLUSH) with part of the image written.
  std::string img = dir_ + "/img";
  ASSERT_EQ(sh("echo 7 > " + at("n") + " && cat " + at(".raw") + " > " + quote(img) +
               " && echo 0 > " + at("n"))
                .status,
            0);
  r = sh("{ head -c 5000 " + quote(img) + "; /bin/true; tail -c +5001 " + quote(img) + "; } > " +
         at(".raw"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(cat("n"), "7\n");
  // The last close of a value that never completed still fails and stores nothing.
  r = sh("python3 -c 'import sys; f = open(sys.argv[1], \"w\"); f.write(\"-\"); f.close()' " +
         at("n"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Errno 22"), std::string::npos) << r.err;
  EXPECT_EQ(cat("n"), "7\n");
}

/// What Node's readFileSync returns for the file: it reads at most st_size bytes.
std::string node_read(const std::string& path) {
  return sh("node -e 'process.stdout.write(require(\"fs\").readFileSync(process.argv[1]))' " +
            quote(path))
      .out;
}

TEST_F(WriteViews, StSizeBoundsWhatNodeAndTarRead) {
  char* field = big();
  ASSERT_NE(field, nullptr);
  std::memset(field, 'x', 8000);
  std::string json = cat(".json"), text = cat("big");
  ASSERT_GT(json.size(), 8000U);
  ASSERT_EQ(text, std::string(8000, 'x') + "\n");
  EXPECT_EQ(node_read(m_->path(".json")), json);
  EXPECT_EQ(node_read(m_->path("big")), text);
  EXPECT_EQ(node_read(m_->path("n")), cat("n"));
  struct stat st {};
  ASSERT_EQ(::stat(m_->path("n").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4096) << "never below sysfs's 4096";
  // tar archives st_size bytes: the whole text, then NUL padding ("file shrank", as on sysfs).
  std::string out = dir_ + "/out";
  sh("mkdir " + quote(out) + " && tar -C " + quote(m_->dir()) + " -cf - .json big n | tar -C " +
     quote(out) + " -xf -");
  for (const auto& [name, want] : {std::pair{".json", json}, std::pair{"big", text}}) {
    std::string got = slurp(out + "/" + name);
    ASSERT_GE(got.size(), want.size()) << name;
    EXPECT_EQ(got.substr(0, want.size()), want) << name;
    EXPECT_EQ(got.find_first_not_of('\0', want.size()), std::string::npos) << name;
  }
  // cp reads to the end: an exact copy.
  ASSERT_EQ(sh("cp " + at(".json") + " " + quote(out + "/cp.json")).status, 0);
  EXPECT_EQ(slurp(out + "/cp.json"), json);
}

}  // namespace
}  // namespace fieldfs::test
