// SPDX-License-Identifier: MIT
// The hidden views at the mount's root (SPEC §3, §5): .raw and .json, read and written by the
// tools people use on them (Python, Node, dd, cat), on struct foo and on examples/every_kind.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

#include "fixture.hpp"
#include "header/header_schema.hpp"

namespace fieldfs::test {
namespace {

std::string hex(const void* p, std::size_t n) {
  std::string h;
  char b[3];
  for (std::size_t k = 0; k < n; ++k) {
    std::snprintf(b, sizeof b, "%02x", static_cast<const unsigned char*>(p)[k]);
    h += b;
  }
  return h;
}

/// The file's bytes as Python's open(p, 'rb').read() sees them, in hex.
std::string python_read_hex(const std::string& path) {
  return sh("python3 -c 'import sys; print(open(sys.argv[1], \"rb\").read().hex())' " + quote(path))
      .out;
}

/// Python's open(p, 'r+b').write(bytes.fromhex(hex)); non-zero status if write or close failed.
Outcome python_write(const std::string& path, const std::string& hex) {
  return sh(
      "python3 -c 'import sys; f = open(sys.argv[1], \"r+b\"); "
      "f.write(bytes.fromhex(sys.argv[2])); f.close()' " +
      quote(path) + " " + hex);
}

/// `printf` of the bytes (given in hex) into `dd of=path bs=1`: one write per byte.
Outcome dd_write(const std::string& path, const std::string& hex) {
  std::string fmt;
  for (std::size_t k = 0; k + 1 < hex.size(); k += 2) {
    int b = std::stoi(hex.substr(k, 2), nullptr, 16);
    fmt += "\\" + std::to_string(b / 64) + std::to_string(b / 8 % 8) + std::to_string(b % 8);
  }
  return sh("printf '" + fmt + "' | dd of=" + quote(path) + " bs=1 2>&1");
}

/// errno of open(O_WRONLY) + one write + close (0 if all succeeded).
int write_errno(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, data.data(), data.size());
  int e = n < 0 ? errno : 0;
  if (::close(fd) != 0 && e == 0) e = errno;
  return e;
}

/// What Python prints after `d = json.loads(open(path).read())` and `code`.
std::string python_json(const std::string& path, const std::string& code) {
  std::string py = "import json, sys; d = json.loads(open(sys.argv[1]).read()); " + code;
  auto r = sh("python3 -c " + quote(py) + " " + quote(path));
  return r.status == 0 ? r.out : r.err;
}

/// What Node prints after `d = JSON.parse(fs.readFileSync(path, 'utf8'))` and `code`.
std::string node_json(const std::string& path, const std::string& code) {
  std::string js = "const d = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); ";
  auto r = sh("node -e " + quote(js + code) + " " + quote(path));
  return r.status == 0 ? r.out : r.err;
}

/// Each text, written to .json, fails with `e` and leaves every byte of the struct as it was.
void expect_refused(const std::string& json, const std::map<int, std::vector<std::string>>& cases) {
  std::string raw = json.substr(0, json.size() - 4) + "raw";
  std::string before = slurp(raw);
  for (const auto& [e, texts] : cases) {
    for (const auto& text : texts) {
      EXPECT_EQ(write_errno(json, text), e) << text;
      EXPECT_EQ(slurp(raw), before) << text;
    }
  }
}

TEST_F(MountTest, LsShowsOnlyTheFieldsAndLsAAlsoTheViews) {
  EXPECT_EQ(in_mount("LC_ALL=C ls").out, "bar\nbaz\n");
  EXPECT_EQ(in_mount("LC_ALL=C ls -a").out, ".\n..\n.json\n.raw\n.schema\nbar\nbaz\n");
}

TEST_F(MountTest, RawIsExactlyTheStructsBytes) {
  struct stat st {};
  ASSERT_EQ(::stat(m_->path(".raw").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8);
  foo()[0] = 0x01020304;
  foo()[1] = -2;
  EXPECT_EQ(python_read_hex(m_->path(".raw")), hex(foo(), 8) + "\n");
  EXPECT_EQ(python_read_hex(m_->path(".raw")), "04030201feffffff\n");
}

TEST_F(MountTest, RawTakesSizeofBytesFromPythonAndDd) {
  auto r = python_write(m_->path(".raw"), "4d000000f7ffffff");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sh("cat " + at("bar") + " " + at("baz")).out, "77\n-9\n");
  EXPECT_EQ(foo()[0], 77);
  EXPECT_EQ(foo()[1], -9);
  r = dd_write(m_->path(".raw"), "ffffff7f00000080");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(sh("cat " + at("bar") + " " + at("baz")).out, "2147483647\n-2147483648\n");
  EXPECT_EQ(foo()[1], -2147483647 - 1);
}

TEST_F(MountTest, RawOfAnyOtherSizeIsEinvalAndChangesNothing) {
  foo()[0] = 11;
  foo()[1] = 22;
  for (std::size_t n : {1U, 4U, 7U, 9U, 16U}) {
    EXPECT_EQ(write_errno(m_->path(".raw"), std::string(n, '\x55')), EINVAL) << n << " bytes";
  }
  auto r = python_write(m_->path(".raw"), "55555555555555");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Errno 22"), std::string::npos) << r.err;
  EXPECT_EQ(foo()[0], 11);
  EXPECT_EQ(foo()[1], 22);
  EXPECT_EQ(python_read_hex(m_->path(".raw")), "0b00000016000000\n");
  // One byte at a time, the 9th byte is refused; what the first 8 did is left unasserted here.
  EXPECT_NE(dd_write(m_->path(".raw"), "555555555555555555").status, 0);
}

TEST_F(MountTest, JsonIsOneObjectThatPythonAndNodeRead) {
  foo()[0] = -7;
  foo()[1] = 12;
  std::string text = slurp(m_->path(".json"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(
      sh("cat " + at(".json") + " | python3 -c 'import json,sys; json.load(sys.stdin)'").status, 0);
  EXPECT_EQ(python_json(m_->path(".json"), "print(list(d.items()))"),
            "[('bar', -7), ('baz', 12)]\n");
  EXPECT_EQ(node_json(m_->path(".json"), "console.log(Object.keys(d).join(), d.bar, d.baz)"),
            "bar,baz -7 12\n");
}

TEST_F(MountTest, JsonWithASubsetSetsOnlyThoseFields) {
  foo()[1] = 9;
  ASSERT_EQ(sh("echo '{\"bar\": 5}' > " + at(".json")).status, 0);
  EXPECT_EQ(foo()[0], 5);
  EXPECT_EQ(foo()[1], 9);
  ASSERT_EQ(sh("printf '%s' '{\"baz\": -1, \"bar\": 6}' > " + at(".json")).status, 0);
  EXPECT_EQ(sh("cat " + at("bar") + " " + at("baz")).out, "6\n-1\n");
}

TEST_F(MountTest, InvalidJsonIsRefusedAndChangesNothing) {
  foo()[0] = 3;
  foo()[1] = 4;
  expect_refused(m_->path(".json"),
                 {{EINVAL,
                   {"{\"nope\": 1}\n", "{\"bar\": \"x\"}\n", "{\"bar\": 1, \"baz\": \"x\"}\n",
                    "{\"bar\": [1]}\n", "[1, 2]\n", "{bar: 1}\n", "not json\n", "{\"bar\": 1,\n"}},
                  {ERANGE, {"{\"bar\": 2147483648}\n", "{\"bar\": 1, \"baz\": -2147483649}\n"}}});
  EXPECT_EQ(slurp(m_->path(".json")), "{\"bar\": 3, \"baz\": 4}\n");
}

const Schema& every_kind() {
  static const Schema schema = [] {
    auto r = load_header_schema({std::string(source_dir()) + "/examples/every_kind.h", "", {}});
    if (!r.schema) throw std::runtime_error(r.error);
    return *r.schema;
  }();
  return schema;
}

class EveryKindViews : public MountTest {
 protected:
  void SetUp() override {
    start({"-o", "schema=" + std::string(source_dir()) + "/examples/every_kind.h"});
    map_ = static_cast<unsigned char*>(m_->map(size()));
    ASSERT_NE(map_, nullptr);
  }
  std::size_t size() const { return every_kind().size(); }
  const Leaf& leaf(const std::string& path) const {
    for (std::uint32_t i = 0; i < every_kind().node_count(); ++i) {
      if (every_kind().path(i) == path) return every_kind().node(i).leaf;
    }
    throw std::runtime_error("no field " + path);
  }
  template <typename T>
  void put(unsigned char* image, const std::string& path, T value) {
    std::memcpy(image + leaf(path).offset, &value, sizeof value);
  }
  void put_string(unsigned char* image, const std::string& path, const std::string& s) {
    std::memset(image + leaf(path).offset, 0, leaf(path).size);
    std::memcpy(image + leaf(path).offset, s.data(), s.size());
  }
  std::string python(const std::string& code) { return python_json(m_->path(".json"), code); }
  unsigned char* map_ = nullptr;
};

TEST_F(EveryKindViews, LsShowsOnlyTheFieldsInDeclarationOrder) {
  std::string fields;
  std::vector<std::string> all{".json", ".raw", ".schema"};
  for (std::uint32_t child : every_kind().node(0).children) {
    fields += every_kind().node(child).name + "\n";
    all.push_back(every_kind().node(child).name);
  }
  std::sort(all.begin(), all.end());
  std::string sorted;
  for (const auto& n : all) sorted += n + "\n";
  EXPECT_EQ(in_mount("ls -U").out, fields);
  EXPECT_EQ(in_mount("LC_ALL=C ls -A").out, sorted);
}

TEST_F(EveryKindViews, RawReadsAndStoresEveryFieldButConstOnesAndPadding) {
  struct stat st {};
  ASSERT_EQ(::stat(m_->path(".raw").c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), size());
  for (std::size_t k = 0; k < size(); ++k) map_[k] = static_cast<unsigned char>(k * 37 + 1);
  EXPECT_EQ(python_read_hex(m_->path(".raw")), hex(map_, size()) + "\n");

  for (std::size_t round = 0; round < 2; ++round) {
    std::vector<unsigned char> old(map_, map_ + size());
    std::vector<unsigned char> data(size());
    for (std::size_t k = 0; k < size(); ++k)
      data[k] = static_cast<unsigned char>(k * 11 + 5 + round);
    std::vector<unsigned char> model = old;
    const Schema& s = every_kind();
    for (std::uint32_t i = 0; i < s.node_count(); ++i) {
      const Leaf& l = s.node(i).leaf;
      if (s.node(i).is_dir || l.is_const) continue;
      if (l.type == Type::boolean && l.bit_width == 0) data[l.offset] = 1;
      if (l.type == Type::chars) std::memset(data.data() + l.offset + 3, 0, l.size - 3);
      std::uint64_t mask = l.bit_width == 0
                               ? ~std::uint64_t{0}
                               : ((std::uint64_t{1} << l.bit_width) - 1) << l.bit_offset;
      for (std::uint32_t b = 0; b < l.size; ++b) {
        auto m = b < 8 ? static_cast<unsigned char>((mask >> (8 * b)) & 0xff) : 0xff;
        model[l.offset + b] =
            static_cast<unsigned char>((model[l.offset + b] & ~m) | (data[l.offset + b] & m));
      }
    }
    put(data.data(), "temperature", 6.5);
    put(model.data(), "temperature", 6.5);
    std::string h = hex(data.data(), size());
    auto r = round == 0 ? python_write(m_->path(".raw"), h) : dd_write(m_->path(".raw"), h);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(hex(map_, size()), hex(model.data(), size())) << "round " << round;
    std::int32_t i32 = 0;
    std::memcpy(&i32, data.data() + leaf("i").offset, 4);
    EXPECT_EQ(slurp(m_->path("i")), std::to_string(i32) + "\n");
    EXPECT_EQ(slurp(m_->path("temperature")), "6.5\n");
    EXPECT_EQ(slurp(m_->path("name")),
              std::string(reinterpret_cast<char*>(data.data() + leaf("name").offset), 3) + "\n");
    EXPECT_EQ(slurp(m_->path("packed_pair/kind")),
              std::to_string(data[leaf("packed_pair/kind").offset]) + "\n");
  }
  std::string before = hex(map_, size());
  for (std::size_t n : {size() - 1, size() + 1, std::size_t{8}}) {
    EXPECT_EQ(write_errno(m_->path(".raw"), std::string(n, '\x01')), EINVAL) << n;
  }
  EXPECT_EQ(hex(map_, size()), before);
}

TEST_F(EveryKindViews, JsonHasNestedObjectsListsEnumNamesAndStrings) {
  put(map_, "i", -5);
  put_string(map_, "name", "hello");
  put(map_, "state", -1);
  put<std::uint8_t>(map_, "level", 200);
  put(map_, "speed/v/1", 2.5);
  put(map_, "grid/1/2", 9);
  put_string(map_, "axes/2/label", "zz");
  put<std::int16_t>(map_, "home/limits/1", -300);
  put<std::uint8_t>(map_, "enabled", 1);
  put<std::uint32_t>(map_, "raw/word", 0x04030201);
  EXPECT_EQ(sh("python3 -c 'import json,sys; json.load(sys.stdin)' < " + at(".json")).status, 0);
  EXPECT_EQ(python("print(d['i'], d['name'], d['state'], d['level'], d['enabled'])"),
            "-5 hello STATE_FAULT LEVEL_HIGH True\n");
  EXPECT_EQ(python("print(d['speed'], d['grid'], d['axes'][2]['label'], d['home']['limits'])"),
            "{'v': [0, 2.5, 0]} [[0, 0, 0], [0, 0, 9]] zz [0, -300]\n");
  EXPECT_EQ(python("print(d['raw'], d['x'], d['packed_pair'])"),
            "{'word': 67305985, 'bytes': [1, 2, 3, 4]} 0 {'kind': 0, 'value': 0}\n");
  std::string keys;
  for (std::uint32_t child : every_kind().node(0).children)
    keys += every_kind().node(child).name + " ";
  EXPECT_EQ(python("print(' '.join(d), end=' ')"), keys);
  EXPECT_EQ(node_json(m_->path(".json"),
                      "console.log(d.state, d.axes[2].label, d.grid[1][2], d.speed.v[1])"),
            "STATE_FAULT zz 9 2.5\n");
}

TEST_F(EveryKindViews, JsonWritesNestedFieldsAndRefusesBadOnesWhole) {
  put<std::uint32_t>(map_, "build", 41);
  std::string ok =
      R"({"state": "STATE_RUNNING", "speed": {"v": [1, 2, 3]}, "axes": [{}, {"label": "ab"}, {}],)"
      R"( "grid": [[0, 0, 0], [4, 5, 6]], "packed_pair": {"value": 4000000000}, "build": 41,)"
      R"( "enabled": true, "ratio": 0.5, "level": "LEVEL_HIGH", "mode": 7})"
      "\n";
  ASSERT_EQ(write_errno(m_->path(".json"), ok), 0) << "a const field given its own value is fine";
  EXPECT_EQ(sh("cd " + at("") +
               " && cat state speed/v/2 axes/1/label grid/1/0 packed_pair/value "
               "enabled ratio level mode axes/0/label")
                .out,
            "STATE_RUNNING\n3\nab\n4\n4000000000\n1\n0.5\nLEVEL_HIGH\n7\n\n");
  expect_refused(
      m_->path(".json"),
      {{EACCES, {R"({"i": 1, "build": 42})", R"({"i": 1, "home": {"position": 2}})"}},
       {ERANGE, {R"({"i": 1, "u8": 256})", R"({"i": 1, "ul": -1})", R"({"i": 1, "mode": 8})"}},
       {EINVAL,
        {R"({"i": 1, "speed": 5})", R"({"i": 1, "speed": {"w": 1}})",
         R"({"i": 1, "state": "NOPE"})", R"({"i": 1, "name": 5})",
         R"({"i": 1, "enabled": "yes please"})", R"({"i": 1, "grid": {"0": 1}})"}},
       {EFBIG, {R"({"i": 1, "name": "0123456789abcdef"})"}}});
}

}  // namespace
}  // namespace fieldfs::test
