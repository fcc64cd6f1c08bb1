// SPDX-License-Identifier: MIT
// -o seq=FIELD on a real mount (SPEC §8): which members may be the counter, the counter's file,
// one write section per write through the mount, and a counter stuck odd by a writer that died.
// Layouts come from the C++ compiler (seq_support.hpp), the counter from a mapping of the segment.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "seq_support.hpp"

namespace fieldfs::test::seq {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMembers[] = R"(#include <stdint.h>
struct members {
  unsigned int seq;
  int sint;
  double dbl;
  char str[8];
  uint16_t u16;
  uint8_t u8;
  unsigned int bits : 8;
  union { uint32_t word; float f; } u;
  struct __attribute__((packed)) { uint8_t b; uint32_t word; } pk;
  uint64_t wide;
};
)";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(SeqRefusalTest, EveryMemberThatCannotBeTheCounterIsRefusedInOneLineWithoutATrace) {
  HeaderFile h(kMembers);
  for (const char* field :
       {"sint", "dbl", "str", "u16", "u8", "bits", "u/word", "pk/word", "u", "nosuch", ""}) {
    std::string name = unique_name("refused");
    Mount m({"-o", h.option() + ",seq=" + field}, name);
    EXPECT_FALSE(m.mounted()) << "seq=" << field << " was accepted";
    EXPECT_NE(m.stop(), 0) << field;
    std::string err = m.daemon_stderr();
    EXPECT_TRUE(err.starts_with("fieldfs: ")) << field << ": " << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
    std::string last = field;
    last = last.substr(last.rfind('/') + 1);
    EXPECT_NE(err.find(last), std::string::npos) << "names the field: " << err;
    EXPECT_FALSE(exists("/dev/shm/" + name)) << "seq=" << field << " created the segment";
  }
}

TEST(SeqRefusalTest, ARefusedCounterLeavesAnExistingSourceAsItWas) {
  HeaderFile h(kMembers);
  std::string file = h.path() + ".state";
  std::string before = "\x01\x02\x03\x04\x05";  // shorter than the struct: a mount would grow it
  {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(before.data(), 1, before.size(), f);
    std::fclose(f);
  }
  Mount m({"-o", h.option() + ",seq=pk/word"}, file);
  EXPECT_FALSE(m.mounted());
  EXPECT_NE(m.stop(), 0);
  EXPECT_EQ(slurp(file), before) << "not a byte written, not grown";
}

TEST(SeqRefusalTest, UnsignedAlignedMembersOfFourAndEightBytesAreAccepted) {
  HeaderFile h(kMembers);
  for (const char* field : {"seq", "wide"}) {
    Mount m({"-o", h.option() + ",seq=" + field});
    EXPECT_TRUE(m.mounted()) << "seq=" << field << ": " << m.daemon_stderr();
    EXPECT_EQ(m.stop(), 0) << m.daemon_stderr();
  }
}

using SeqCounterTest = SeqVariantTest;

TEST_P(SeqCounterTest, TheCountersFileIsReadOnlyAndReadsTheCounter) {
  struct stat st {};
  ASSERT_EQ(::stat(path(v().seq_path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0444U);
  std::uint64_t value = v().seq_width == 8 ? (std::uint64_t{1} << 40) + 6 : 4000000000U;
  image().set_counter(value);
  EXPECT_EQ(slurp(path(v().seq_path)), std::to_string(value) + "\n");
  for (int flags : {O_WRONLY, O_RDWR, O_WRONLY | O_TRUNC}) {
    int fd = ::open(path(v().seq_path).c_str(), flags);
    EXPECT_EQ(fd < 0 ? errno : 0, EACCES) << "open flags " << flags << ", even as root";
    if (fd >= 0) ::close(fd);
  }
  auto r = sh("echo 5 > " + quote(path(v().seq_path)));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << "the shell says: " << r.err;
  EXPECT_EQ(image().counter(), value) << "nothing changed it";
  EXPECT_NE(read_once(path(".json")).text.find("\"seq\": " + std::to_string(value)),
            std::string::npos)
      << ".json shows the counter too";
}

TEST_P(SeqCounterTest, EveryWriteThroughTheMountIsOneSectionAndAdvancesTheCounterByTwo) {
  std::uint64_t c = image().counter();
  ASSERT_EQ(c % 2, 0U);
  auto advanced = [&](const char* what) {
    EXPECT_EQ(image().counter(), c + 2) << what;
    c = image().counter();
  };
  ASSERT_EQ(write_errno(path("x"), "5\n"), 0);
  advanced("a field file");
  EXPECT_EQ(image().x(), 5);
  ASSERT_EQ(write_errno(path("name"), "abc\n"), 0);
  advanced("a string");
  ASSERT_EQ(write_errno(path("t"), "1.5"), 0);
  advanced("a double, without a newline");
  ASSERT_EQ(write_errno(path(".json"), R"({"x": 7, "y": -7, "name": "seven"})"), 0);
  advanced(".json without the counter");
  EXPECT_EQ(image().x(), 7);
  EXPECT_EQ(image().y(), -7);
  std::string raw = image().bytes();
  std::int32_t nine = 9;
  std::memcpy(raw.data() + v().x_at, &nine, sizeof nine);
  ASSERT_EQ(write_errno(path(".raw"), raw), 0);
  advanced(".raw with the current counter");
  EXPECT_EQ(image().x(), 9);
  EXPECT_EQ(slurp(path("name")), "seven\n");
}

INSTANTIATE_TEST_SUITE_P(Seq, SeqCounterTest, ::testing::Values(&kPos, &kPos8, &kPosH),
                         variant_label);

/// Lines of `log` that contain `word`.
int lines_with(const std::string& log, const std::string& word) {
  std::istringstream in(log);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(word) != std::string::npos;
  return n;
}

/// The README's recovery from Python: read the 4-byte counter at offset 0 of the segment, add 1,
/// write it back. Returns python3's exit status.
int recover(const std::string& segment) {
  auto r =
      sh("python3 -c 'import mmap, os, struct\n"
         "m = mmap.mmap(os.open(\"/dev/shm/" +
         segment + "\", os.O_RDWR), " + std::to_string(kPos.size) +
         ")\n"
         "(c,) = struct.unpack_from(\"<I\", m, 0)\n"
         "struct.pack_into(\"<I\", m, 0, c + 1)'");
  EXPECT_EQ(r.err, "");
  return r.status;
}

class SeqStuckTest : public SeqTest {
 protected:
  void SetUp() override { start(kPos, "seq_wait_ms=100"); }
  /// errno of `op`, which must return within the bound plus a margin for a busy machine.
  template <typename F>
  int bounded(const char* what, F op) {
    auto start = Clock::now();
    int e = op();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    std::printf("stuck counter: %s failed after %lld ms (seq_wait_ms 100)\n", what,
                static_cast<long long>(ms));
    EXPECT_LT(ms, 600) << what;
    return e;
  }
};

TEST_F(SeqStuckTest, AStuckOddCounterFailsWithEagainLogsOnceAndTheReadmesRecoveryWorks) {
  ASSERT_EQ(write_errno(path("x"), "3\n"), 0);
  std::string name = m_->source();
  int logged = lines_with(m_->daemon_stderr(), name);
  image().set_counter(image().counter() + 1);  // a writer died inside its section
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(bounded("cat x", [&] { return read_once(path("x")).err; }), EAGAIN);
    EXPECT_EQ(bounded("read .json", [&] { return read_once(path(".json")).err; }), EAGAIN);
    EXPECT_EQ(bounded("read .raw", [&] { return read_once(path(".raw")).err; }), EAGAIN);
    EXPECT_EQ(bounded("write x", [&] { return write_errno(path("x"), "7\n"); }), EAGAIN);
    EXPECT_EQ(bounded("write .json", [&] { return write_errno(path(".json"), R"({"y": 1})"); }),
              EAGAIN);
  }
  EXPECT_EQ(image().x(), 3);
  EXPECT_EQ(image().y(), 0);
  EXPECT_EQ(image().counter(), 3U) << "nothing entered or closed a section";
  EXPECT_EQ(read_once(path(".schema")).err, 0) << "the daemon serves what needs no snapshot";
  EXPECT_EQ(sh("ls " + quote(m_->dir())).out, "name\nseq\nt\nx\ny\n");
  EXPECT_EQ(lines_with(m_->daemon_stderr(), name), logged + 1)
      << "one line names the stuck segment:\n"
      << m_->daemon_stderr();
  // The README's recovery: make the counter even through the mapping (read, +1, write).
  ASSERT_EQ(recover(name), 0);
  EXPECT_EQ(image().counter(), 4U);
  EXPECT_EQ(slurp(path("x")), "3\n");
  EXPECT_EQ(write_errno(path("x"), "7\n"), 0);
  EXPECT_EQ(image().counter(), 6U);
  EXPECT_EQ(read_once(path(".json")).text.substr(0, 22), R"({"seq": 6, "x": 7, "y")");
}

}  // namespace
}  // namespace fieldfs::test::seq
