// SPDX-License-Identifier: MIT
// .json's write side through Tree::write, judged against nlohmann (the library decides what JSON
// is): random documents split at every byte, what may follow a document, offsets, FLUSH, numbers
// beyond double's range, the cost of collecting in 4 KiB writes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>

#include "core/codec.hpp"
#include "core/tree.hpp"
#include "core/views.hpp"
#include "leaf.hpp"

namespace fieldfs {
namespace {

using test::leaf;

using Json = nlohmann::json;

// struct w { char s[48]; struct { char t[24]; int32_t a; } n; int32_t arr[3]; double d; };
constexpr std::uint32_t kSize = 96;
const char kSentinel = '\xAA';  // no generated value has these bytes

Schema w_schema() {
  Schema s("w", kSize, 8);
  s.add_leaf(0, "s", "char[48]", leaf(Type::chars, 0, 48));
  auto n = s.add_dir(0, "n", "struct n");
  s.add_leaf(n, "t", "char[24]", leaf(Type::chars, 48, 24));
  s.add_leaf(n, "a", "int32_t", leaf(Type::i32, 72, 4));
  auto arr = s.add_dir(0, "arr", "int32_t[3]");
  for (std::uint32_t i = 0; i < 3; ++i) {
    s.add_leaf(arr, std::to_string(i), "int32_t", leaf(Type::i32, 76 + 4 * i, 4));
  }
  s.add_leaf(0, "d", "double", leaf(Type::f64, 88, 8));
  return s;
}

/// Where the library stops reading `text`: nullopt if it is a document; else the position of
/// its error, which is past the end when the text is a document cut short.
std::optional<std::size_t> library_error(const std::string& text) {
  struct Sax : nlohmann::json_sax<Json> {
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t p, const std::string&,
                     const nlohmann::detail::exception&) override {
      at = p;
      return false;
    }
    std::optional<std::size_t> at;
  } sax;
  Json::sax_parse(text, &sax);
  return sax.at;
}

/// Random documents for w_schema: any subset of the fields in any order, blanks anywhere, strings
/// full of quotes, backslashes, brackets, escapes and UTF-8.
class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  std::string document() {
    std::vector<std::string> members;
    if (coin()) members.push_back(member("s", string(40)));
    if (coin()) {
      std::vector<std::string> inner;
      if (coin()) inner.push_back(member("t", string(18)));
      if (coin()) inner.push_back(member("a", std::to_string(pick(-2000000000, 2000000000))));
      members.push_back(member("n", object(inner)));
    }
    if (coin()) {
      std::string a = "[" + blank();
      for (int i = 0; i < 3; ++i) {
        a += (i ? "," + blank() : "") + (coin() ? std::to_string(pick(-99999, 99999)) : "null");
      }
      members.push_back(member("arr", a + blank() + "]"));
    }
    const char* doubles[] = {"0.5", "-2.5e-3", "1E10", "3", "-0.0", "123.456", "6.02e+23"};
    if (coin() || members.empty()) members.push_back(member("d", doubles[pick(0, 6)]));
    std::shuffle(members.begin(), members.end(), rng_);
    return blank() + object(members);
  }

  /// `text` with one byte replaced by something JSON often chokes on.
  std::string mutate(std::string text) {
    const char bytes[] = "\"\\{}[],: x0-\x01\xff";
    text[static_cast<std::size_t>(pick(0, static_cast<int>(text.size()) - 1))] =
        bytes[pick(0, sizeof bytes - 2)];
    return text;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool coin() { return pick(0, 1) == 1; }
  std::string blank() {
    const char* blanks[] = {"", "", " ", "\n", "\t", "\r\n  ", "  "};
    return blanks[pick(0, 6)];
  }
  std::string member(const std::string& key, const std::string& value) {
    return "\"" + key + "\"" + blank() + ":" + blank() + value;
  }
  std::string object(const std::vector<std::string>& members) {
    std::string o = "{" + blank();
    for (std::size_t i = 0; i < members.size(); ++i) o += (i ? "," + blank() : "") + members[i];
    return o + blank() + "}";
  }
  /// A JSON string whose decoded text has at most `limit` bytes.
  std::string string(std::size_t limit) {
    const char* pieces[] = {"a",
                            "Z",
                            "\\\"",
                            "\\\\",
                            "\\/",
                            "\\n",
                            "\\t",
                            "\\u0022",
                            "\\u005c",
                            "\\u00e9",
                            "\xc3\xa9",
                            "\xe2\x82\xac",
                            "\\ud83d\\ude00",
                            "{",
                            "}",
                            "[",
                            "]",
                            ":",
                            ",",
                            " "};
    std::string s = "\"";
    for (std::size_t bytes = 0; bytes + 4 <= limit && pick(0, 9) != 0; bytes += 4) {
      s += pieces[pick(0, 19)];
    }
    return s + "\"";
  }

  std::mt19937 rng_;
};

class JsonWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "fieldfs-jsonw-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::shm_unlink(name_.c_str());
    SegmentOptions o;
    o.size = kSize;
    auto s = Segment::open(Source{Source::Kind::shm, name_}, o);
    ASSERT_TRUE(s);
    segment_.emplace(std::move(*s));
    tree_.emplace(schema_, *segment_, false);
  }
  void TearDown() override { ::shm_unlink(name_.c_str()); }

  const char* base() const { return reinterpret_cast<const char*>(segment_->data()); }
  std::string bytes() const { return {base(), kSize}; }
  void fill(char c) { std::memset(segment_->data(), c, kSize); }
  OpenFile* open_json() { return tree_->open_file(schema_.node_count() + 1); }
  /// errno of a write (0 if it succeeded).
  int write(OpenFile* f, std::uint64_t offset, std::string_view data) {
    auto r = tree_->write(*f, offset, data);
    return r ? 0 : to_errno(r.error());
  }
  int flush(OpenFile* f) {
    auto r = tree_->flush(*f);
    return r ? 0 : to_errno(r.error());
  }

  /// The sentinel state with the document's values, as the library reads them.
  std::string expected(const std::string& doc) const {
    std::string want(kSize, kSentinel);
    auto put_string = [&](std::uint32_t at, std::uint32_t size, const std::string& v) {
      want.replace(at, size, v + std::string(size - v.size(), '\0'));
    };
    auto put_i32 = [&](std::uint32_t at, std::int32_t v) { std::memcpy(&want[at], &v, 4); };
    Json j = Json::parse(doc);
    if (j.contains("s")) put_string(0, 48, j["s"]);
    if (j.contains("n") && j["n"].contains("t")) put_string(48, 24, j["n"]["t"]);
    if (j.contains("n") && j["n"].contains("a")) put_i32(72, j["n"]["a"]);
    for (std::uint32_t i = 0; j.contains("arr") && i < 3; ++i) {
      if (!j["arr"][i].is_null()) put_i32(76 + 4 * i, j["arr"][i]);
    }
    if (j.contains("d")) {
      double d = j["d"];
      std::memcpy(&want[88], &d, 8);
    }
    return want;
  }

  /// Writes `doc` cut at `cuts` (ascending, inside it) on one open file: nothing is stored and
  /// the file is pending until the last piece, which stores the document.
  void expect_stored_once(const std::string& doc, const std::vector<std::size_t>& cuts) {
    fill(kSentinel);
    std::string sentinel = bytes();
    OpenFile* f = open_json();
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
      ASSERT_FALSE(library_error(doc.substr(0, cut)) <= cut) << "the library calls it cut short";
      ASSERT_EQ(write(f, at, doc.substr(at, cut - at)), 0) << doc << " cut at " << cut;
      ASSERT_EQ(bytes(), sentinel) << doc << " stored early, cut at " << cut;
      ASSERT_EQ(flush(f), EINVAL) << doc << " cut at " << cut;
      at = cut;
    }
    ASSERT_EQ(write(f, at, doc.substr(at)), 0) << doc;
    EXPECT_EQ(bytes(), expected(doc)) << doc;
    EXPECT_EQ(flush(f), 0) << doc;
    tree_->close_file(f);
  }

  Schema schema_ = w_schema();
  std::string name_;
  std::optional<Segment> segment_;
  std::optional<Tree> tree_;
};

TEST_F(JsonWriteTest, RandomDocumentsSplitAtEveryByteStoreOnceAtTheEnd) {
  Generator gen(2026);
  for (int round = 0; round < 60; ++round) {
    std::string doc = gen.document();
    ASSERT_FALSE(library_error(doc)) << doc;
    std::vector<std::size_t> every(doc.size() - 1);
    std::iota(every.begin(), every.end(), 1);
    expect_stored_once(doc, every);  // dd bs=1
    for (std::size_t cut = 1; cut < doc.size(); ++cut) expect_stored_once(doc, {cut});
  }
}

TEST_F(JsonWriteTest, TextTheLibraryRefusesIsNeverStored) {
  Generator gen(11);
  for (int round = 0; round < 300; ++round) {
    std::string text = gen.mutate(gen.document());
    auto error = library_error(text);
    if (!error) continue;
    fill(kSentinel);
    std::string sentinel = bytes();
    OpenFile* f = open_json();
    int e = write(f, 0, text);
    if (*error <= text.size()) {
      EXPECT_EQ(e, EINVAL) << "refused at once: " << text;
    }
    EXPECT_NE(e == 0 ? flush(f) : e, 0) << text;
    tree_->close_file(f);
    EXPECT_EQ(bytes(), sentinel) << text;
    // One byte at a time, a prefix the library reads as a document is stored on its own.
    bool prefix_is_document = false;
    for (std::size_t k = 1; k < text.size(); ++k) {
      prefix_is_document = prefix_is_document || !library_error(text.substr(0, k));
    }
    f = open_json();
    bool failed = false;
    for (std::size_t k = 0; k < text.size() && !failed; ++k)
      failed = write(f, k, text.substr(k, 1));
    EXPECT_TRUE(failed || flush(f) != 0) << text;
    tree_->close_file(f);
    if (!prefix_is_document) {
      EXPECT_EQ(bytes(), sentinel) << text;
    }
  }
}

TEST_F(JsonWriteTest, EscapedQuotesAndASplitRightAfterOne) {
  OpenFile* f = open_json();
  EXPECT_EQ(write(f, 0, R"({"s": "a\"b"})"), 0);
  EXPECT_EQ(std::string(base()), "a\"b");
  EXPECT_EQ(write(f, 0, R"({"s": "c\"})"), 0);
  EXPECT_EQ(flush(f), EINVAL) << "a string is still open";
  EXPECT_EQ(write(f, 11, "\"}\n"), 0);
  EXPECT_EQ(std::string(base()), "c\"}");
  EXPECT_EQ(flush(f), 0);
  tree_->close_file(f);
}

TEST_F(JsonWriteTest, BlanksAndOneNewlineMayFollowADocumentLater) {
  OpenFile* f = open_json();
  auto n_a = [&] {
    std::int32_t v;
    std::memcpy(&v, base() + 72, 4);
    return v;
  };
  EXPECT_EQ(write(f, 0, R"({"n": {"a": 5}})"), 0);
  EXPECT_EQ(n_a(), 5);
  EXPECT_EQ(write(f, 15, " "), 0);
  EXPECT_EQ(write(f, 16, "\n"), 0);
  EXPECT_EQ(write(f, 17, "\t "), 0);
  EXPECT_EQ(write(f, 19, "\n"), EINVAL) << "a second newline";
  EXPECT_EQ(write(f, 0, R"({"n": {"a": 6}} )"), 0);
  EXPECT_EQ(write(f, 16, "x"), EINVAL);
  EXPECT_EQ(write(f, 0, "{\"n\": {\"a\": 7}}\n\n"), EINVAL) << "in the same write too";
  EXPECT_EQ(write(f, 0, "{\"n\": {\"a\": 8}}\r\n"), EINVAL);
  EXPECT_EQ(n_a(), 6);
  EXPECT_EQ(write(f, 0, "{\"n\": {\"a\": 9}} \t\n"), 0);
  EXPECT_EQ(n_a(), 9);
  EXPECT_EQ(flush(f), 0);
  tree_->close_file(f);
}

TEST_F(JsonWriteTest, AWriteAtAnotherOffsetStartsANewDocument) {
  OpenFile* f = open_json();
  EXPECT_EQ(write(f, 0, R"({"n": {"a": 1})"), 0);
  EXPECT_EQ(write(f, 4096, "{\"n\": {\"a\": 2}}\n"), 0) << ">> writes at st_size";
  EXPECT_EQ(write(f, 9000, R"({"n": )"), 0);
  EXPECT_EQ(write(f, 9006, "{\"a\": 3}}\n"), 0);
  std::int32_t v;
  std::memcpy(&v, base() + 72, 4);
  EXPECT_EQ(v, 3);
  tree_->close_file(f);
}

TEST_F(JsonWriteTest, AnOverflowingNumberGetsTheFieldFilesErrno) {
  Schema s("t", 40, 8);
  s.add_leaf(0, "i8", "int8_t", leaf(Type::i8, 0, 1));
  s.add_leaf(0, "u64", "uint64_t", leaf(Type::u64, 8, 8));
  s.add_leaf(0, "f", "float", leaf(Type::f32, 16, 4));
  s.add_leaf(0, "d", "double", leaf(Type::f64, 24, 8));
  s.add_leaf(0, "b", "bool", leaf(Type::boolean, 32, 1));
  const std::string texts[] = {"1e999",  "-1e999", "1e39",    std::string(400, '9'),
                               "1e-999", "0",      "1.5",     "99999999999999999999",
                               "300",    "2e308",  "-1.0e309"};
  for (std::uint32_t i = 1; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    for (const auto& text : texts) {
      auto field = parse_value(s, n.leaf, text + "\n");
      int want = field ? 0 : to_errno(field.error());
      auto stored = store_json(s, *segment_, "{\"" + n.name + "\": " + text + "}");
      EXPECT_EQ(stored ? 0 : to_errno(stored.error()), want) << n.name << " " << text;
    }
  }
  EXPECT_EQ(store_json_if_complete(schema_, *segment_, R"({"d": 1e999)").value(), false);
  EXPECT_EQ(store_json_if_complete(schema_, *segment_, R"({"d": 1e999,)").value(), false);
  EXPECT_EQ(store_json(schema_, *segment_, R"({"d": 1e999, x})").error(),
            std::errc::invalid_argument);
  EXPECT_EQ(store_json(schema_, *segment_, R"({"n": {"a": 1}, "d": 1e999, "s": 5})").error(),
            std::errc::result_out_of_range);
  EXPECT_EQ(store_json(schema_, *segment_, R"({"s": 5, "d": 1e999})").error(),
            std::errc::invalid_argument)
      << "the first error in document order";
  std::string many = "{";
  for (int k = 0; k < 9; ++k) many += std::string(k ? ", " : "") + "\"d\": 1e999";
  EXPECT_EQ(store_json(schema_, *segment_, many + "}").error(), std::errc::invalid_argument)
      << "more than 8";
  many.erase(many.rfind(','));
  EXPECT_EQ(store_json(schema_, *segment_, many + "}").error(), std::errc::result_out_of_range);
}

}  // namespace
}  // namespace fieldfs
