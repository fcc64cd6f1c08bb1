// SPDX-License-Identifier: MIT
// -o schema=FILE on a real mount (SPEC §1, §3-§5): every member kind of examples/every_kind.h is
// written through its file and checked byte for byte in a mapping, and read back the other way.
// The expected bytes and text are computed here, never through fieldfs's codec.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <regex>
#include <stdexcept>

#include "fixture.hpp"
#include "header/header_schema.hpp"

namespace fieldfs::test {
namespace {

std::string every_kind_h() { return std::string(source_dir()) + "/examples/every_kind.h"; }

const Schema& every_kind() {
  static const Schema schema = [] {
    auto r = load_header_schema({every_kind_h(), "", {}});
    if (!r.schema) throw std::runtime_error(r.error);
    return *r.schema;
  }();
  return schema;
}

std::uint64_t get_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}
void put_le(unsigned char* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}

/// Stores the two's-complement `value` in `leaf`'s bytes (or bits) of `image`, nothing else.
void encode_int(unsigned char* image, const Leaf& leaf, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  if (leaf.bit_width == 0) return put_le(image + leaf.offset, bits, leaf.size);
  std::uint64_t mask = ((std::uint64_t{1} << leaf.bit_width) - 1) << leaf.bit_offset;
  std::uint64_t unit = get_le(image + leaf.offset, leaf.size);
  put_le(image + leaf.offset, (unit & ~mask) | ((bits << leaf.bit_offset) & mask), leaf.size);
}

unsigned width_of(const Leaf& leaf) { return leaf.bit_width != 0 ? leaf.bit_width : leaf.size * 8; }
bool signed_leaf(const Leaf& leaf) { return is_integer(leaf.type) && is_signed(leaf.type); }
std::int64_t min_of(const Leaf& leaf) {
  return std::numeric_limits<std::int64_t>::min() >> (64 - width_of(leaf));
}
std::int64_t max_of(const Leaf& leaf) { return -(min_of(leaf) + 1); }
std::uint64_t umax_of(const Leaf& leaf) { return ~std::uint64_t{0} >> (64 - width_of(leaf)); }

/// One value of a leaf: the text its file shows or takes, and the same value in a byte image.
struct Sample {
  std::string text;
  std::int64_t value = 0;    ///< integers, bools, enums (two's complement)
  std::string bytes;         ///< floats and strings: the exact bytes at leaf.offset
  bool ones_around = false;  ///< bit-fields: the rest of the storage unit set to all ones
};

template <typename T>
std::string bytes_of(T v) {
  std::string b(sizeof v, '\0');
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

/// Writing: each integer type's extreme, the last enumerator (STATE_FAULT, LEVEL_HIGH).
/// Reading: other values (STATE_RUNNING, LEVEL_LOW), with a bit-field's neighbours all ones.
Sample sample(const Schema& s, const Leaf& leaf, bool reading) {
  if (leaf.enum_index >= 0) {
    const auto& all = s.enumerators(leaf.enum_index);
    const Enumerator& e = !reading ? all.back() : all[0].value != 0 ? all[0] : all[1];
    return {e.name, e.value, {}, reading};
  }
  switch (leaf.type) {
    case Type::boolean:
      return {reading ? "0" : "1", reading ? 0 : 1, {}, reading};
    case Type::f32:
      return reading ? Sample{"0.375", 0, bytes_of(0.375F)} : Sample{"1.5", 0, bytes_of(1.5F)};
    case Type::f64:
      return reading ? Sample{"-1234.5", 0, bytes_of(-1234.5)}
                     : Sample{"-2.25", 0, bytes_of(-2.25)};
    case Type::chars: {
      std::string text = "hi";
      if (reading) text.clear();
      for (std::uint32_t k = 0; reading && k + 1 < leaf.size; ++k)
        text += static_cast<char>('A' + k);
      std::string bytes = text;
      bytes.resize(leaf.size, '\0');
      return {text, 0, bytes};
    }
    default:
      break;
  }
  if (!signed_leaf(leaf)) {
    std::uint64_t u = !reading ? umax_of(leaf) : leaf.bit_width == 1 ? 0 : (umax_of(leaf) >> 1) + 2;
    return {std::to_string(u), static_cast<std::int64_t>(u), {}, reading};
  }
  std::int64_t v = !reading ? min_of(leaf) : leaf.bit_width != 0 ? min_of(leaf) + 1 : max_of(leaf);
  return {std::to_string(v), v, {}, reading};
}

/// Stores the sample in `image` exactly as a C program would.
void store(unsigned char* image, const Leaf& leaf, const Sample& v) {
  if (!v.bytes.empty()) {
    std::memcpy(image + leaf.offset, v.bytes.data(), v.bytes.size());
    return;
  }
  if (v.ones_around && leaf.bit_width != 0) std::memset(image + leaf.offset, 0xff, leaf.size);
  encode_int(image, leaf, v.value);
}

/// errno of open(O_WRONLY) + one write + close (0 if all succeeded).
int write_errno(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, text.data(), text.size());
  int e = n < 0 ? errno : 0;
  if (::close(fd) != 0 && e == 0) e = errno;
  return e;
}

class EveryKindTest : public MountTest {
 protected:
  void SetUp() override {
    start({"-o", "schema=" + every_kind_h()});
    map_ = static_cast<unsigned char*>(m_->map(every_kind().size()));
    ASSERT_NE(map_, nullptr);
  }
  std::string hex(const unsigned char* p) const {
    std::string h;
    char b[3];
    for (std::uint32_t k = 0; k < every_kind().size(); ++k) {
      std::snprintf(b, sizeof b, "%02x", p[k]);
      h += b;
    }
    return h;
  }
  std::string file(const std::string& rel) { return slurp(m_->path(rel)); }
  unsigned char* map_ = nullptr;
};

TEST_F(EveryKindTest, EveryFileWritesExactlyTheCEncodingOfItsValue) {
  const Schema& s = every_kind();
  std::vector<unsigned char> model(s.size(), 0);
  int leaves = 0;
  for (std::uint32_t i = 0; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    if (n.is_dir) continue;
    ++leaves;
    std::string path = m_->path(s.path(i));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << s.path(i);
    if (n.leaf.is_const) {
      EXPECT_EQ(st.st_mode, S_IFREG | 0444U) << s.path(i);
      EXPECT_EQ(write_errno(path, "1\n"), EACCES) << s.path(i) << ": const, even as root";
      int fd = ::open(path.c_str(), O_RDWR);
      EXPECT_EQ(fd < 0 ? errno : 0, EACCES) << s.path(i);
      if (fd >= 0) ::close(fd);
    } else {
      EXPECT_EQ(st.st_mode, S_IFREG | 0644U) << s.path(i);
      for (unsigned char* image : {map_, model.data()}) {  // strings: NUL padding is written
        if (n.leaf.type == Type::chars) std::memset(image + n.leaf.offset, 'x', n.leaf.size);
      }
      Sample v = sample(s, n.leaf, false);
      EXPECT_EQ(write_errno(path, v.text + "\n"), 0) << s.path(i) << " <- " << v.text;
      store(model.data(), n.leaf, v);
      EXPECT_EQ(file(s.path(i)), v.text + "\n") << s.path(i);
    }
    ASSERT_EQ(hex(map_), hex(model.data()))
        << "after writing " << s.path(i) << " at offset " << n.leaf.offset;
  }
  EXPECT_EQ(leaves, 69);
}

TEST_F(EveryKindTest, EveryFileReadsWhatAMappingStored) {
  const Schema& s = every_kind();
  for (std::uint32_t i = 0; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    if (n.is_dir) continue;
    Sample v = sample(s, n.leaf, true);
    store(map_, n.leaf, v);
    EXPECT_EQ(file(s.path(i)), v.text + "\n") << s.path(i) << " at offset " << n.leaf.offset;
  }
}

TEST_F(EveryKindTest, TheDaemonMapsNeitherLibclangNorLlvm) {
  // fieldfs-header parsed the header in its own process; the daemon only read its output.
  std::string maps = slurp("/proc/" + std::to_string(m_->pid()) + "/maps");
  ASSERT_NE(maps.find("libfuse3"), std::string::npos) << "the daemon's own maps";
  EXPECT_EQ(maps.find("libclang"), std::string::npos);
  EXPECT_EQ(maps.find("libLLVM"), std::string::npos);
}

TEST_F(EveryKindTest, DotSchemaIsWhatLayoutPrints) {
  auto r = sh(quote(fieldfs_binary()) + " --layout -o schema=" + quote(every_kind_h()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(file(".schema"), r.out);
  EXPECT_EQ(r.out, layout_text(every_kind()));
}

TEST_F(EveryKindTest, EnumFilesShowTheNameAndTakeANameOrANumber) {
  auto* state = reinterpret_cast<std::int32_t*>(map_ + 132);
  ASSERT_EQ(write_errno(m_->path("state"), "STATE_RUNNING\n"), 0);
  EXPECT_EQ(*state, 1);
  EXPECT_EQ(file("state"), "STATE_RUNNING\n");
  ASSERT_EQ(write_errno(m_->path("state"), "-1"), 0);
  EXPECT_EQ(file("state"), "STATE_FAULT\n");
  ASSERT_EQ(write_errno(m_->path("state"), "7\n"), 0);
  EXPECT_EQ(*state, 7);
  EXPECT_EQ(file("state"), "7\n") << "a value without a name reads as the number";
  EXPECT_EQ(write_errno(m_->path("state"), "STATE_BOGUS\n"), EINVAL);
  ASSERT_EQ(write_errno(m_->path("level"), "200\n"), 0);
  EXPECT_EQ(map_[136], 200);
  EXPECT_EQ(file("level"), "LEVEL_HIGH\n");
  ASSERT_EQ(write_errno(m_->path("level"), "LEVEL_LOW\n"), 0);
  EXPECT_EQ(map_[136], 1);
  EXPECT_EQ(write_errno(m_->path("level"), "256\n"), ERANGE);
  ASSERT_EQ(write_errno(m_->path("last_state"), "STATE_FAULT\n"), 0);
  EXPECT_EQ(file("last_state"), "STATE_FAULT\n");
  EXPECT_EQ(write_errno(m_->path("last_state"), "8\n"), ERANGE) << "a 4-bit signed field";
  EXPECT_EQ(file("last_state"), "STATE_FAULT\n");
}

TEST_F(EveryKindTest, ABitFieldWriteLeavesItsNeighboursIntact) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> fields{
      {"level", {"LEVEL_HIGH", "LEVEL_LOW"}},
      {"ready", {"1", "0"}},
      {"mode", {"5", "2", "7"}},
      {"offset", {"-100", "2047", "-2048"}},
      {"alarm", {"1", "0"}},
      {"last_state", {"STATE_RUNNING", "STATE_FAULT"}},
      {"state", {"STATE_FAULT"}}};
  std::map<std::string, std::string> now;
  for (const auto& [name, values] : fields) {
    ASSERT_EQ(write_errno(m_->path(name), values[0] + "\n"), 0) << name;
    now[name] = values[0];
  }
  for (const auto& [name, values] : fields) {
    for (const auto& v : values) {
      ASSERT_EQ(write_errno(m_->path(name), v + "\n"), 0) << name << " <- " << v;
      now[name] = v;
      for (const auto& [other, value] : now) {
        EXPECT_EQ(file(other), value + "\n") << "after " << name << " <- " << v;
      }
    }
  }
  EXPECT_EQ(write_errno(m_->path("mode"), "8\n"), ERANGE);
  EXPECT_EQ(write_errno(m_->path("offset"), "2048\n"), ERANGE);
  EXPECT_EQ(write_errno(m_->path("offset"), "-2049\n"), ERANGE);
  EXPECT_EQ(write_errno(m_->path("ready"), "2\n"), ERANGE);
  for (const auto& [other, value] : now) EXPECT_EQ(file(other), value + "\n") << other;
}

/// A fresh temporary directory for headers, removed at the end of the test.
class HeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fieldfs-hdr-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { sh("rm -rf " + quote(dir_)); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    sh("mkdir -p \"$(dirname " + quote(p) + ")\" && printf '%s' " + quote(text) + " > " + quote(p));
    return p;
  }
  /// Mounting with `opts` fails with one "fieldfs: FILE:LINE:COL: ..." line, creating nothing.
  void expect_refused(const std::string& opts, const std::string& file, int line) {
    std::string seg = unique_name("hdr");
    std::string text;
    {
      Mount m({"-o", opts}, seg);
      EXPECT_FALSE(m.mounted());
      EXPECT_NE(m.stop(), 0);
      text = m.daemon_stderr();
    }
    std::regex one_line("fieldfs: " + file + ":" + std::to_string(line) + ":[0-9]+: [^\n]+\n");
    EXPECT_TRUE(std::regex_match(text, one_line)) << text;
    struct stat st {};
    EXPECT_NE(::stat(("/dev/shm/" + seg).c_str(), &st), 0) << "no segment is created";
    ::unlink(("/dev/shm/" + seg).c_str());
  }
  std::string dir_;
};

TEST_F(HeaderTest, ASyntaxErrorFailsTheMountWithFileLineCol) {
  std::string h = write("bad.h", "struct s {\n  int a;\n  int b c;\n};\n");
  expect_refused("schema=" + h, h, 3);
}

TEST_F(HeaderTest, APointerMemberIsRefusedWithFileLineCol) {
  std::string h =
      write("ptr.h", "#include <stdint.h>\nstruct p {\n  int32_t a;\n  char *name;\n};\n");
  expect_refused("schema=" + h, h, 4);
}

TEST_F(HeaderTest, StructOptionChoosesTheStruct) {
  std::string h =
      write("two.h", "struct first { int a; short b; };\nstruct second { double d; };\n");
  {
    Mount m({"-o", "schema=" + h});
    ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
    EXPECT_EQ(sh("ls " + quote(m.dir())).out, "d\n") << "the last struct by default";
    EXPECT_EQ(m.stop(), 0);
  }
  Mount m({"-o", "schema=" + h + ",struct=first"});
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  EXPECT_EQ(sh("ls -U " + quote(m.dir())).out, "a\nb\n");
  EXPECT_EQ(slurp(m.path(".raw")).size(), 8U);
  EXPECT_EQ(m.stop(), 0);
}

TEST_F(HeaderTest, IncludeOptionFindsAnIncludedHeader) {
  write("inc/dims.h", "#define LEN 5\ntypedef short count_t;\n");
  std::string h =
      write("top/top.h", "#include <dims.h>\nstruct top { char tag[LEN]; count_t n; };\n");
  expect_refused("schema=" + h, h, 1);
  Mount m({"-o", "schema=" + h + ",include=" + dir_ + "/inc"});
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  EXPECT_EQ(sh("ls -U " + quote(m.dir())).out, "tag\nn\n");
  ASSERT_EQ(
      sh("echo abcd > " + quote(m.path("tag")) + " && echo -3 > " + quote(m.path("n"))).status, 0);
  auto* bytes = static_cast<unsigned char*>(m.map(8));
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(bytes), 5), std::string("abcd\0", 5));
  EXPECT_EQ(get_le(bytes + 6, 2), 0xfffdU);
  EXPECT_EQ(m.stop(), 0);
}

}  // namespace
}  // namespace fieldfs::test
