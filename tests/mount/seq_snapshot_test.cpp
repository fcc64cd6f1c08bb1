// SPDX-License-Identifier: MIT
// Consistent snapshots (SPEC §8): while a protocol writer (a thread of this test, through its own
// mapping, as another program would) publishes x = i, y = -i, name = "i/i" in sections as fast
// as it can, readers through the mount (Python's json and struct, cat from a dash loop) never see
// two sections mixed. Without seq= the same load is the baseline (printed, not judged). And SPEC
// §5's last bullet: concurrent .json writers through the mount never show half of one write.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "seq_support.hpp"

namespace fieldfs::test::seq {
namespace {

/// Publishes step i in one section per step until destroyed; constructed once step 1 is out.
class ProtocolWriter {
 public:
  explicit ProtocolWriter(Image& image)
      : thread_([this, &image] {
          SeqLock lock = image.lock();
          for (int i = 1; !stop_.load(std::memory_order_relaxed); ++i) {
            auto done = lock.write([&] {
              image.set_x(i);
              image.set_y(-i);
              image.set_name(name_of(i));
              return Result<void>{};
            });
            if (done) sections_.fetch_add(1, std::memory_order_relaxed);
          }
        }) {
    while (sections_.load() == 0) std::this_thread::yield();
  }
  ProtocolWriter(const ProtocolWriter&) = delete;
  ProtocolWriter& operator=(const ProtocolWriter&) = delete;
  ~ProtocolWriter() {
    stop_ = true;
    thread_.join();
  }
  long sections() const { return sections_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> sections_{0};
  std::thread thread_;
};

struct Tally {
  long reads = 0;
  long mixed = 0;
  long eagain = 0;
};

/// Runs seq_client.py (KIND and its arguments) and reads its tally.
Tally python_readers(const std::string& args) {
  auto r =
      sh("python3 " + quote(std::string(source_dir()) + "/tests/mount/seq_client.py") + " " + args,
         60);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  Tally t;
  if (std::sscanf(r.out.c_str(), "reads %ld mixed %ld eagain %ld", &t.reads, &t.mixed, &t.eagain) !=
      3) {
    ADD_FAILURE() << "seq_client.py printed: " << r.out << r.err;
  }
  if (t.mixed != 0) std::printf("%s", r.out.c_str());
  return t;
}

/// `cat name` COUNT times from a dash loop: "reads N mixed M failed F".
Tally cat_readers(const std::string& name_file, int count) {
  auto r = sh("f=" + quote(name_file) + "; i=0; mixed=0; failed=0; while [ $i -lt " +
                  std::to_string(count) +
                  " ]; do i=$((i + 1)); if v=$(cat \"$f\"); then "
                  "[ \"${v%/*}\" = \"${v#*/}\" ] && [ -n \"$v\" ] || mixed=$((mixed + 1)); "
                  "else failed=$((failed + 1)); fi; done; echo \"reads $i mixed $mixed "
                  "eagain $failed\"",
              60);
  Tally t;
  EXPECT_EQ(
      std::sscanf(r.out.c_str(), "reads %ld mixed %ld eagain %ld", &t.reads, &t.mixed, &t.eagain),
      3)
      << r.out << r.err;
  t.reads -= t.eagain;
  return t;
}

void report(const char* what, const Tally& t) {
  std::printf("%s: %ld reads, %ld mixed, %ld EAGAIN\n", what, t.reads, t.mixed, t.eagain);
}

std::string raw_offsets(const Variant& v) {
  return std::to_string(v.x_at) + " " + std::to_string(v.y_at) + " " + std::to_string(v.name_at) +
         " " + std::to_string(v.name_size);
}

using SeqSnapshotTest = SeqTest;

TEST_F(SeqSnapshotTest, ReadersThroughTheMountNeverMixTwoSectionsOfAProtocolWriter) {
  start(kPosH, "threads=4");
  ProtocolWriter writer(image());
  Tally json = python_readers("json " + quote(m_->dir()) + " 2");
  Tally raw = python_readers("raw " + quote(m_->dir()) + " 2 " + raw_offsets(kPosH));
  Tally cat = cat_readers(path("name"), 1000);
  report(".json (Python json.loads)", json);
  report(".raw (Python struct)", raw);
  report("name (cat)", cat);
  std::printf("writer: %ld sections\n", writer.sections());
  for (const auto* t : {&json, &raw, &cat}) {
    EXPECT_EQ(t->mixed, 0);
    EXPECT_GE(t->reads, 100) << "enough reads succeeded to judge";
  }
}

TEST_F(SeqSnapshotTest, WithoutSeqTheSameLoadIsTheBaseline) {
  start(kPosH, "threads=4", false);
  ProtocolWriter writer(image());
  Tally json = python_readers("json " + quote(m_->dir()) + " 2");
  report("baseline without seq=: .json (Python json.loads)", json);
  RecordProperty("baseline_mixed", std::to_string(json.mixed));
  RecordProperty("baseline_reads", std::to_string(json.reads));
  EXPECT_EQ(json.eagain, 0) << "without seq= nothing waits";
}

/// Consistent: x = i, y = -i, name "i/i", or the all-zero start.
bool consistent(int x, int y, const std::string& name) {
  return (x == 0 && y == 0 && name.empty()) || (y == -x && name == name_of(x));
}

/// Reads .raw or .json of kPos once and counts it in `t`: failed (as eagain) or mixed.
void judge_once(const Mount& m, bool as_raw, Tally& t) {
  Read r = read_once(m.path(as_raw ? ".raw" : ".json"));
  if (r.err != 0 || (as_raw && r.text.size() != kPos.size)) {
    ++t.eagain;
    return;
  }
  int x = 0;
  int y = 0;
  std::string name;
  if (as_raw) {
    std::memcpy(&x, r.text.data() + kPos.x_at, sizeof x);
    std::memcpy(&y, r.text.data() + kPos.y_at, sizeof y);
    name = r.text.substr(kPos.name_at, kPos.name_size).c_str();
  } else {
    auto doc = nlohmann::json::parse(r.text);
    x = doc["x"].get<int>();
    y = doc["y"].get<int>();
    name = doc["name"].get<std::string>();
  }
  ++t.reads;
  if (!consistent(x, y, name) && t.mixed++ == 0) {
    std::printf("first mixed: x %d y %d name %s\n", x, y, name.c_str());
  }
}

TEST_F(SeqSnapshotTest, WithoutSeqConcurrentJsonWritersAreNeverSeenHalfDone) {
  start(kPos, "threads=4", false);
  std::atomic<bool> stop{false};
  std::atomic<long> writes{0};
  std::vector<std::thread> writers;
  for (int k = 1; k <= 3; ++k) {
    writers.emplace_back([&, k] {
      for (int i = k * 1000000; !stop.load(); ++i) {
        nlohmann::json doc{{"x", i}, {"y", -i}, {"name", name_of(i)}};
        if (write_errno(path(".json"), doc.dump()) == 0) writes.fetch_add(1);
      }
    });
  }
  Tally json;
  Tally raw;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 25000 && std::chrono::steady_clock::now() < deadline; ++i) {
    judge_once(*m_, i % 5 == 4, i % 5 == 4 ? raw : json);
  }
  stop = true;
  for (auto& w : writers) w.join();
  report(".json while 3 .json writers write (threads=4, no seq=)", json);
  report(".raw while 3 .json writers write (threads=4, no seq=)", raw);
  std::printf("writers: %ld .json writes\n", writes.load());
  EXPECT_EQ(json.mixed, 0);
  EXPECT_EQ(raw.mixed, 0);
  EXPECT_EQ(json.eagain + raw.eagain, 0) << "without seq= no read waits for a counter";
  EXPECT_GE(writes.load(), 1000) << "the writers did write meanwhile";
}

}  // namespace
}  // namespace fieldfs::test::seq
