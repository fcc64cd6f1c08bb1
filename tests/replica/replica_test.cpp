// SPDX-License-Identifier: MIT
// The fleet replica (SPEC §9) without etcd or FUSE: hosts are Trees over their own segments,
// joined through a model of etcd (memory_kv.hpp). The oracle is what SPEC §9 says each host must
// show, read back through the Tree as a mount would.
#include "replica/replica.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "../core/leaf.hpp"
#include "memory_kv.hpp"
#include "replica/document.hpp"

namespace fieldfs {
namespace {

using namespace std::chrono_literals;
using test::leaf;

/// struct pos { uint32_t seq; int32_t x, y; char label[24]; } laid out at `shift` more bytes
/// (another ABI's padding) when asked.
Schema pos_schema(std::uint32_t shift = 0, const char* x_type = "int32_t") {
  Schema s("pos", 40 + shift, 4);
  s.add_leaf(0, "seq", "uint32_t", leaf(Type::u32, 0, 4));
  s.add_leaf(0, "x", x_type, leaf(Type::i32, 4 + shift, 4));
  s.add_leaf(0, "y", "int32_t", leaf(Type::i32, 8 + shift, 4));
  s.add_leaf(0, "label", "char[24]", leaf(Type::chars, 12 + shift, 24));
  return s;
}

/// Stores y (offset 8) as a program that maps the segment does: one atomic store.
void store_y(Segment& segment, std::int32_t v) {
  std::atomic_ref<std::int32_t>(*reinterpret_cast<std::int32_t*>(segment.data() + 8)).store(v);
}

struct Host {
  Host(test::MemoryKv& kv, int n, Schema s = pos_schema()) : schema(std::move(s)) {
    name = "fieldfs-unit-replica-" + std::to_string(getpid()) + "-" + std::to_string(n);
    SegmentOptions o;
    o.size = schema.size();
    auto opened = Segment::open(Source{Source::Kind::shm, name}, o);
    EXPECT_TRUE(opened);
    segment.emplace(std::move(opened).value());
    tree.emplace(schema, *segment, false, Ownership::of_process(),
                 Consistency{find_counter(schema, "seq").node, 2s});
    ReplicaOptions ro;
    ro.key = "fieldfs/pos";
    ro.sample = 5ms;
    ro.check = 50ms;
    ro.retry = 20ms;
    replica = std::make_unique<Replica>(*tree, *segment, kv, ro);
    tree->route_writes(replica.get());
  }
  ~Host() {
    replica.reset();
    ::shm_unlink(name.c_str());
  }
  std::uint32_t node(const char* n) const { return *schema.find(0, n); }
  std::uint32_t json() const { return schema.node_count() + 1; }
  Result<void> write(std::uint32_t n, const std::string& text) {
    OpenFile* f = tree->open_file(n);
    auto r = tree->write(*f, 0, text);
    tree->close_file(f);
    return r;
  }
  std::string read(std::uint32_t n) {
    OpenFile* f = tree->open_file(n);
    auto r = tree->read(*f, 0, 1 << 16);
    tree->close_file(f);
    return r ? *r : "error";
  }
  /// Waits (bounded) until field `n` reads `want`.
  bool shows(const char* n, const std::string& want) {
    for (int i = 0; i < 400; ++i) {
      if (read(node(n)) == want) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  Schema schema;
  std::string name;
  std::optional<Segment> segment;
  std::optional<Tree> tree;
  std::unique_ptr<Replica> replica;
};

TEST(FingerprintTest, TheSameHeaderOnAnotherAbiMatchesAnotherTypeDoesNot) {
  EXPECT_EQ(schema_fingerprint(pos_schema()), schema_fingerprint(pos_schema(8)));
  EXPECT_NE(schema_fingerprint(pos_schema()), schema_fingerprint(pos_schema(0, "long")));
}

TEST(ReplicaTest, AWriteOnOneHostIsSeenOnTheOthersAndNeverHalfApplied) {
  test::MemoryKv kv;
  Host a(kv, 1), b(kv, 2);
  ASSERT_EQ(a.replica->join(), "");
  ASSERT_EQ(b.replica->join(), "");
  a.replica->start();
  b.replica->start();
  ASSERT_TRUE(a.write(a.node("label"), "start"));
  EXPECT_TRUE(b.shows("label", "start\n"));
  std::atomic<bool> stop{false};
  std::atomic<long> mixed{0};
  std::thread reader([&] {
    while (!stop) {
      auto doc = nlohmann::json::parse(b.read(b.json()), nullptr, false);
      if (doc.is_object() && doc["y"] != -doc["x"].get<int>()) mixed++;
    }
  });
  for (int i = 1; i <= 200; ++i) {
    std::string doc = R"({"x":)" + std::to_string(i) + R"(,"y":)" + std::to_string(-i) + "}";
    ASSERT_TRUE(a.write(a.json(), doc));
  }
  EXPECT_TRUE(b.shows("y", "-200\n"));
  stop = true;
  reader.join();
  EXPECT_EQ(mixed, 0);
  auto doc = parse_fleet_document(kv.last().value);
  ASSERT_TRUE(doc);
  EXPECT_EQ(nlohmann::json::parse(doc->state)["x"], 200);
}

TEST(ReplicaTest, CompareAndSetIncrementsFromThreeHostsLoseNone) {
  test::MemoryKv kv;
  std::vector<std::unique_ptr<Host>> hosts;
  for (int i = 0; i < 3; ++i) {
    hosts.push_back(std::make_unique<Host>(kv, i));
    ASSERT_EQ(hosts.back()->replica->join(), "");
    hosts.back()->replica->start();
  }
  std::vector<std::thread> loops;
  for (auto& h : hosts) {
    loops.emplace_back([&h] {
      for (int done = 0; done < 100;) {
        auto doc = nlohmann::json::parse(h->read(h->json()));
        doc["x"] = doc["x"].get<int>() + 1;
        auto r = h->write(h->json(), doc.dump());
        if (r) {
          ++done;
        } else {
          ASSERT_EQ(r.error(), std::errc::resource_unavailable_try_again);
        }
      }
    });
  }
  for (auto& t : loops) t.join();
  for (auto& h : hosts) EXPECT_TRUE(h->shows("x", "300\n"));
}

TEST(ReplicaTest, AStoreThroughTheMappingIsPublished) {
  test::MemoryKv kv;
  Host a(kv, 1), b(kv, 2);
  ASSERT_EQ(a.replica->join(), "");
  ASSERT_EQ(b.replica->join(), "");
  a.replica->start();
  b.replica->start();
  std::int32_t v = 77;
  store_y(*a.segment, v);  // as a program mapping A stores it
  EXPECT_TRUE(b.shows("y", "77\n"));
}

TEST(ReplicaTest, UnreachableWritesFailWithEioReadsServeAndTheReplicaConverges) {
  test::MemoryKv kv;
  Host a(kv, 1), b(kv, 2);
  ASSERT_EQ(a.replica->join(), "");
  ASSERT_EQ(b.replica->join(), "");
  a.replica->start();
  b.replica->start();
  ASSERT_TRUE(a.write(a.node("x"), "1"));
  ASSERT_TRUE(b.shows("x", "1\n"));
  kv.set_down(true);
  auto r = a.write(a.node("x"), "2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error);
  EXPECT_EQ(a.read(a.node("x")), "1\n");  // nothing changed, the last state is served
  std::int32_t v = 9;
  store_y(*b.segment, v);  // a store while etcd is away
  for (int i = 0; i < 100 && a.replica->status().find("connected: no") == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(a.replica->status().find("connected: no"), std::string::npos) << a.replica->status();
  kv.set_down(false);
  EXPECT_TRUE(a.shows("y", "9\n"));  // B published what its mapping stored meanwhile
  ASSERT_TRUE(a.write(a.node("x"), "3"));
  EXPECT_TRUE(b.shows("x", "3\n"));
  EXPECT_NE(a.replica->status().find("connected: yes"), std::string::npos);
}

TEST(ReplicaTest, AHostWithAnotherStructIsRefused) {
  test::MemoryKv kv;
  Host a(kv, 1);
  ASSERT_EQ(a.replica->join(), "");
  Host c(kv, 3, pos_schema(0, "long"));
  EXPECT_NE(c.replica->join().find("refusing to join"), std::string::npos);
  Host d(kv, 4, pos_schema(8));  // the same header on another ABI joins
  EXPECT_EQ(d.replica->join(), "");
}

}  // namespace
}  // namespace fieldfs
