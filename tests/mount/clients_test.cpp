// SPDX-License-Identifier: MIT
// The clients users have, each on a real mount: dash's read, Python, Node, a C program that
// maps the segment, and many readers and writers at once.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "fixture.hpp"

namespace fieldfs::test {
namespace {

using ClientsTest = MountTest;

TEST_F(ClientsTest, DashReadGetsTheWholeValueOneByteAtATime) {
  foo()[1] = -123456;
  auto r = sh("dash -c 'read v < " + m_->path("baz") + "; echo \"[$v]\"'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[-123456]\n");
}

TEST_F(ClientsTest, PythonReadsAndWritesTheFiles) {
  std::string script = "p = " + quote(m_->path("bar")) +
                       "\n"
                       "open(p, 'w').write('41\\n')\n"
                       "print(open(p).read(), end='')\n"
                       "try:\n"
                       "    with open(p, 'w') as f:\n"
                       "        f.write('nope\\n')\n"
                       "except OSError as e:\n"
                       "    print('errno', e.errno)\n"
                       "print(int(open(p).read()) + 1)\n";
  auto r = sh("python3 -c " + quote(script));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "41\nerrno 22\n42\n");
}

TEST_F(ClientsTest, PythonMapsTheSegmentWithMmapAndStruct) {
  std::string script =
      "import mmap, os, struct\n"
      "fd = os.open('/dev/shm/" +
      m_->source() +
      "', os.O_RDWR)\n"
      "m = mmap.mmap(fd, 8)\n"
      "struct.pack_into('i', m, 4, 2024)\n"
      "open(" +
      quote(m_->path("bar")) +
      ", 'w').write('-5')\n"
      "print(struct.unpack_from('ii', m, 0))\n";
  auto r = sh("python3 -c " + quote(script));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "(-5, 2024)\n");
  EXPECT_EQ(slurp(m_->path("baz")), "2024\n");
}

TEST_F(ClientsTest, PythonSharedMemoryWithTheResourceTrackerWorkaroundLeavesTheSegment) {
  std::string script =
      "from multiprocessing import shared_memory, resource_tracker\n"
      "shm = shared_memory.SharedMemory(name='" +
      m_->source() +
      "')\n"
      "resource_tracker.unregister(shm._name, 'shared_memory')  # Python < 3.13\n"
      "shm.buf[0:4] = (99).to_bytes(4, 'little')\n"
      "shm.close()\n";
  auto r = sh("python3 -c " + quote(script));
  EXPECT_EQ(r.status, 0) << r.err;
  struct stat st {};
  EXPECT_EQ(::stat(("/dev/shm/" + m_->source()).c_str(), &st), 0)
      << "the tracker must not unlink a segment the daemon still serves";
  EXPECT_EQ(slurp(m_->path("bar")), "99\n");
}

TEST_F(ClientsTest, NodeReadsAndWritesTheFiles) {
  std::string script =
      "const fs = require('fs');\n"
      "const p = " +
      quote(m_->path("baz")) +
      ";\n"
      "fs.writeFileSync(p, '314\\n');\n"
      "process.stdout.write(fs.readFileSync(p, 'utf8'));\n"
      "try { fs.writeFileSync(p, '1e9999\\n'); } catch (e) { console.log(e.code); }\n";
  auto r = sh("node -e " + quote(script));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "314\nEINVAL\n");
  EXPECT_EQ(foo()[1], 314);
}

TEST_F(ClientsTest, ACProgramThatMapsTheSegmentSeesEveryEchoAndViceVersa) {
  std::string bin = m_->dir() + ".foo_map";
  auto cc = sh("cc -O2 -o " + quote(bin) + " " +
               quote(std::string(source_dir()) + "/examples/foo_map.c"));
  ASSERT_EQ(cc.status, 0) << cc.err;
  ASSERT_EQ(sh("echo 1234 > " + at("bar")).status, 0);
  EXPECT_EQ(sh(quote(bin) + " " + m_->source() + " get bar").out, "1234\n");
  ASSERT_EQ(sh(quote(bin) + " " + m_->source() + " set baz -77").status, 0);
  EXPECT_EQ(sh("cat " + at("baz")).out, "-77\n");
  ::unlink(bin.c_str());
}

TEST_F(ClientsTest, ACProgramWithStdioReadsAndWrites) {
  std::string bin = m_->dir() + ".stdio";
  auto cc = sh("cc -O2 -o " + quote(bin) + " " +
               quote(std::string(source_dir()) + "/examples/stdio_client.c"));
  ASSERT_EQ(cc.status, 0) << cc.err;
  foo()[0] = 41;
  auto r = sh(quote(bin) + " " + quote(m_->dir()));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "baz = 42\n");
  EXPECT_EQ(foo()[1], 42);
  ::unlink(bin.c_str());
}

/// Writers through the files and through the mapping, readers through both: every value any
/// reader sees is one that some writer wrote whole (no torn, no mixed values).
class ConcurrencyTest : public MountTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override { start({"-o", std::string("threads=") + GetParam()}); }
};

INSTANTIATE_TEST_SUITE_P(Threads, ConcurrencyTest, ::testing::Values("1", "2", "4"));

TEST_P(ConcurrencyTest, ReadersAndWritersNeverSeeTornOrMixedValues) {
  const std::int32_t patterns[] = {0, -1, 0x55555555, static_cast<std::int32_t>(0xAAAAAAAA)};
  const std::set<std::string> texts = {"0\n", "-1\n", "1431655765\n", "-1431655766\n"};
  auto* mapped = reinterpret_cast<std::atomic<std::int32_t>*>(foo());
  std::string bar = m_->path("bar");
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::atomic<long> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        int fd = ::open(bar.c_str(), O_WRONLY);
        std::string t = std::to_string(patterns[(i + w) % 4]) + "\n";
        if (::write(fd, t.data(), t.size()) != static_cast<ssize_t>(t.size())) ++bad;
        ::close(fd);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; !stop; ++i) mapped[0].store(patterns[i % 4]);
  });
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      while (!stop) {
        int fd = ::open(bar.c_str(), O_RDONLY);
        std::string text;
        char c = 0;
        if (r == 0) {  // one byte at a time, as dash reads
          while (::read(fd, &c, 1) == 1) text.push_back(c);
        } else {
          char buf[64];
          ssize_t n = ::read(fd, buf, sizeof buf);
          text.assign(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        }
        ::close(fd);
        if (texts.count(text) == 0) ++bad;
        ++reads;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      std::int32_t v = mapped[0].load();
      if (v != 0 && v != -1 && v != patterns[2] && v != patterns[3]) ++bad;
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 1000);
  RecordProperty("reads", static_cast<int>(reads.load()));
}

}  // namespace
}  // namespace fieldfs::test
