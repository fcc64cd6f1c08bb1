// SPDX-License-Identifier: MIT
// SPEC §4: inside .raw and .json every naturally aligned word is one atomic load, a union's
// words included. A thread of this test stores whole words through its own mapping, as another
// program would; every word a read shows must be one of the stored values.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "header_file.hpp"

namespace fieldfs::test {
namespace {

/// The whole file, read with one open and one read of up to 64 KiB (a fresh sample).
std::string read_once(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return "";
  std::string out(65536, '\0');
  ssize_t n = ::read(fd, out.data(), out.size());
  ::close(fd);
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

/// Stores a and b alternately into *word until stopped; constructed once the first is stored.
template <typename W>
class Storer {
 public:
  Storer(W* word, W a, W b)
      : thread_([=, this] {
          std::atomic_ref<W> w(*word);
          for (std::uint64_t i = 0; !stop_.load(std::memory_order_relaxed); ++i) {
            w.store(i % 2 == 0 ? a : b, std::memory_order_release);
            started_.store(true, std::memory_order_relaxed);
          }
        }) {
    while (!started_.load()) std::this_thread::yield();
  }
  ~Storer() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::thread thread_;
};

std::uint32_t word_of(const std::string& bytes, std::size_t at) {
  std::uint32_t w = 0;
  std::memcpy(&w, bytes.data() + at, sizeof w);
  return w;
}

constexpr std::uint32_t kA = 0x01020304;
constexpr std::uint32_t kB = 0xf0e0d0c0;
/// Reads for at least this long (and at least kReads times) while the storer runs.
constexpr auto kReadFor = std::chrono::milliseconds(1500);
constexpr int kReads = 400;

/// Whether to read on: the storer may get a core late on a busy machine.
bool more(int i, std::chrono::steady_clock::time_point start) {
  return i < kReads || std::chrono::steady_clock::now() - start < kReadFor;
}

TEST(AtomicViewsTest, AUnionsWordInRawAndJsonIsAlwaysAStoredValue) {
  HeaderFile h(
      "#include <stdint.h>\n"
      "struct torn { union { uint32_t word; uint8_t bytes[4]; } u; uint32_t next; };\n");
  Mount m({"-o", h.option()});
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  auto* word = static_cast<std::uint32_t*>(m.map(8));
  ASSERT_NE(word, nullptr);
  int torn_raw = 0;
  int torn_json = 0;
  int reads = 0;
  {
    Storer<std::uint32_t> storer(word, kA, kB);
    int i = 0;
    for (auto start = std::chrono::steady_clock::now(); more(i, start); ++i) {
      std::string raw = read_once(m.path(".raw"));
      ASSERT_EQ(raw.size(), 8U);
      std::uint32_t w = word_of(raw, 0);
      if (w != kA && w != kB) ++torn_raw;
      auto doc = nlohmann::json::parse(read_once(m.path(".json")));
      auto as_word = doc["u"]["word"].get<std::uint32_t>();
      std::uint8_t bytes[4];
      for (std::size_t k = 0; k < 4; ++k) bytes[k] = doc["u"]["bytes"][k].get<std::uint8_t>();
      std::uint32_t from_bytes = 0;
      std::memcpy(&from_bytes, bytes, sizeof from_bytes);
      if ((as_word != kA && as_word != kB) || (from_bytes != kA && from_bytes != kB)) ++torn_json;
    }
    reads = i;
  }
  EXPECT_EQ(torn_raw, 0) << "of " << reads << " .raw reads showed a word never stored";
  EXPECT_EQ(torn_json, 0) << "of " << reads << " .json reads showed a word never stored";
  EXPECT_EQ(m.stop(), 0);
}

TEST(AtomicViewsTest, APackedBitFieldsWordInRawAndJsonIsAlwaysAStoredValue) {
  // The bit-fields' storage unit is at offset 1: unaligned, inside the struct's first 8-byte
  // word, which the storer replaces whole.
  HeaderFile h(
      "#include <stdint.h>\n"
      "struct __attribute__((packed)) pk {\n"
      "  uint8_t head; uint32_t lo : 12; uint32_t hi : 20; uint8_t tail[3];\n"
      "};\n");
  Mount m({"-o", h.option()});
  ASSERT_TRUE(m.mounted()) << m.daemon_stderr();
  auto* word = static_cast<std::uint64_t*>(m.map(8));
  ASSERT_NE(word, nullptr);
  const std::uint64_t a = 0x0102030405060708;
  const std::uint64_t b = 0xf8e7d6c5b4a39281;
  auto fields = [](std::uint64_t w) {
    return std::to_string(w & 0xff) + " " + std::to_string((w >> 8) & 0xfff) + " " +
           std::to_string((w >> 20) & 0xfffff);
  };
  int torn_raw = 0;
  int torn_json = 0;
  int reads = 0;
  {
    Storer<std::uint64_t> storer(word, a, b);
    int i = 0;
    for (auto start = std::chrono::steady_clock::now(); more(i, start); ++i) {
      std::string raw = read_once(m.path(".raw"));
      ASSERT_EQ(raw.size(), 8U);
      std::uint64_t w = 0;
      std::memcpy(&w, raw.data(), sizeof w);
      if (w != a && w != b) ++torn_raw;
      auto doc = nlohmann::json::parse(read_once(m.path(".json")));
      std::string seen = std::to_string(doc["head"].get<unsigned>()) + " " +
                         std::to_string(doc["lo"].get<unsigned>()) + " " +
                         std::to_string(doc["hi"].get<unsigned>());
      if (seen != fields(a) && seen != fields(b)) ++torn_json;
    }
    reads = i;
  }
  EXPECT_EQ(torn_raw, 0) << "of " << reads << " .raw reads showed a word never stored";
  EXPECT_EQ(torn_json, 0) << "of " << reads << " .json reads mixed two stores";
  EXPECT_EQ(m.stop(), 0);
}

}  // namespace
}  // namespace fieldfs::test
