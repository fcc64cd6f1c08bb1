// SPDX-License-Identifier: MIT
//
// The layout proof. Random structs (fixed seed) go through load_header_schema and through gcc,
// which prints offsetof/sizeof of every leaf path the generator declared and the bytes each
// bit-field covers when set to all ones in a zeroed struct. The Schema must name the same leaves
// in the same order, and agree with gcc on every offset, size, bit and signedness.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "header/header_schema.hpp"
#include "layout_generator.hpp"

namespace fieldfs {
namespace {

constexpr int kStructs = 1200;
constexpr int kBatches = 8;

using layout::access;
using layout::path_of;

void collect(const Schema& s, std::uint32_t dir, std::vector<std::uint32_t>& out) {
  for (auto c : s.node(dir).children) {
    if (s.node(c).is_dir) {
      collect(s, c, out);
    } else {
      out.push_back(c);
    }
  }
}

/// Everything `f` yields (a file or a pipe).
std::string slurp(std::FILE* f) {
  std::string text;
  char buf[65536];
  for (std::size_t n; f != nullptr && (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
    text.append(buf, n);
  }
  return text;
}

std::string read_text(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  std::string text = slurp(f);
  if (f != nullptr) std::fclose(f);
  return text;
}

struct Case {
  layout::GeneratedHeader header;
  std::string file;
  Schema schema;
  std::vector<std::uint32_t> leaves;
};

/// What gcc printed for one leaf: offsetof/sizeof, or the bytes a bit-field set to all ones.
struct Measured {
  long offset = -1;
  long size = -1;
  int negative = -1;
  std::map<long, unsigned> bytes;
};

struct Gcc {
  std::vector<std::pair<long, long>> size_align;
  std::vector<std::vector<Measured>> leaves;
};

std::string where(const Case& c, std::size_t k) {
  return c.file + ", member " + c.schema.path(c.leaves[k]) + ": ";
}

/// The schema names the generator's leaves, in order, with the expected kinds.
std::string check_names(const Case& c) {
  const auto& want = c.header.leaves;
  for (std::size_t k = 0; k < want.size() || k < c.leaves.size(); ++k) {
    std::string got = k < c.leaves.size() ? c.schema.path(c.leaves[k]) : "nothing";
    std::string declared = k < want.size() ? path_of(want[k].parts) : "nothing";
    if (got != declared) {
      return c.file + ": leaf " + std::to_string(k) + " is " + got + ", declared " + declared;
    }
  }
  for (std::size_t k = 0; k < want.size(); ++k) {
    const Node& n = c.schema.node(c.leaves[k]);
    const layout::Want& w = want[k];
    if (w.type && n.leaf.type != *w.type) return where(c, k) + "wrong Type";
    if (n.leaf.bit_width != w.width) return where(c, k) + "wrong bit width";
    if (w.enum_id >= 0) {
      if (!is_integer(n.leaf.type) || n.leaf.enum_index < 0) return where(c, k) + "not an enum";
      const auto& got = c.schema.enumerators(n.leaf.enum_index);
      const auto& expect = c.header.enums[static_cast<std::size_t>(w.enum_id)];
      bool same = got.size() == expect.size();
      for (std::size_t i = 0; same && i < got.size(); ++i) {
        same = got[i].name == expect[i].name && got[i].value == expect[i].value;
      }
      if (!same) return where(c, k) + "wrong enumerators";
    }
  }
  return {};
}

// gcc prints one line per fact: "S struct sizeof alignof", "L struct leaf offsetof sizeof
// signed", "B struct leaf signed byte:value..." (the bytes a bit-field set to all ones covers).
constexpr const char* kPrologue = R"(#include <stddef.h>
#include <stdio.h>
#include <string.h>
static void dump(int s, int k, int neg, const void* v, size_t n) {
  const unsigned char* p = v;
  printf("B %d %d %d", s, k, neg);
  for (size_t i = 0; i < n; i++) if (p[i]) printf(" %zu:%u", i, p[i]);
  printf("\n");
}
#define S(s, T) printf("S %d %zu %zu\n", s, sizeof(T), _Alignof(T))
#define L(s, k, T, m) printf("L %d %d %zu %zu %d\n", s, k, offsetof(T, m), sizeof(((T*)0)->m), \
  (__typeof__(((T*)0)->m))-1 < 0)
#define C(s, k, T, m) printf("L %d %d %zu %zu 0\n", s, k, offsetof(T, m), sizeof(((T*)0)->m))
#define B(s, k, T, m, v) { T x; memset(&x, 0, sizeof x); x.m = v; dump(s, k, x.m < 0, &x, sizeof x); }
)";

std::string program(const std::vector<Case>& cases, std::size_t first, std::size_t last) {
  std::ostringstream c;
  for (std::size_t i = first; i < last; ++i) c << "#include \"t" << i << ".h\"\n";
  c << kPrologue << "int main(void) {\n";
  for (std::size_t i = first; i < last; ++i) {
    const Case& cs = cases[i];
    const std::string& t = cs.header.c_type;
    c << "S(" << i << ", " << t << ");\n";
    for (std::size_t k = 0; k < cs.leaves.size(); ++k) {
      const Leaf& leaf = cs.schema.node(cs.leaves[k]).leaf;
      std::string m = access(cs.header.leaves[k].parts);
      std::string args = std::to_string(i) + ", " + std::to_string(k) + ", " + t + ", " + m;
      if (leaf.bit_width != 0) {
        c << "B(" << args << (leaf.type == Type::boolean ? ", 1" : ", -1") << ")\n";
      } else {
        c << (leaf.type == Type::chars ? "C(" : "L(") << args << ");\n";
      }
    }
  }
  c << "return 0;\n}\n";
  return c.str();
}

/// Writes and compiles every batch, all gcc processes at once so both cores work.
std::string compile(const std::string& dir, const std::vector<Case>& cases, std::size_t per) {
  std::string script = "cd '" + dir + "' || exit 1;";
  for (std::size_t b = 0; b * per < cases.size(); ++b) {
    std::ofstream(dir + "/b" + std::to_string(b) + ".c")
        << program(cases, b * per, std::min(cases.size(), (b + 1) * per));
    std::string n = std::to_string(b);
    script += " (" FIELDFS_GCC " -std=gnu11 -w -O0 -o b" + n + " b" + n + ".c 2>>errors || echo " +
              n + " >>failed) &";
  }
  if (std::system((script + " wait").c_str()) != 0 || std::filesystem::exists(dir + "/failed")) {
    return "gcc failed:\n" + read_text(dir + "/errors");
  }
  return {};
}

void parse(const std::string& text, Gcc& out) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    char tag = 0;
    std::size_t s = 0;
    std::size_t k = 0;
    in >> tag >> s;
    if (tag == 'S') {
      in >> out.size_align[s].first >> out.size_align[s].second;
      continue;
    }
    in >> k;
    Measured& m = out.leaves[s][k];
    if (tag == 'L') {
      in >> m.offset >> m.size >> m.negative;
      continue;
    }
    in >> m.negative;
    for (std::string pair; in >> pair;) {
      auto colon = pair.find(':');
      m.bytes[std::stol(pair.substr(0, colon))] =
          static_cast<unsigned>(std::stoul(pair.substr(colon + 1)));
    }
  }
}

std::string run_gcc(const std::string& dir, const std::vector<Case>& cases, Gcc& out) {
  std::size_t per = (cases.size() + kBatches - 1) / kBatches;
  if (auto error = compile(dir, cases, per); !error.empty()) return error;
  out.size_align.assign(cases.size(), {-1, -1});
  out.leaves.assign(cases.size(), {});
  for (std::size_t i = 0; i < cases.size(); ++i) out.leaves[i].resize(cases[i].leaves.size());
  for (std::size_t b = 0; b * per < cases.size(); ++b) {
    std::string run = "'" + dir + "/b" + std::to_string(b) + "'";
    std::FILE* pipe = popen(run.c_str(), "r");
    if (pipe == nullptr) return "cannot run " + run;
    std::string text = slurp(pipe);
    if (pclose(pipe) != 0) return run + " failed";
    parse(text, out);
  }
  return {};
}

/// The leaf's storage unit is the smallest naturally aligned one inside the struct that holds
/// its bits, or, when none does, exactly the bytes that hold them.
bool unit_is_minimal(const Leaf& l, std::uint32_t struct_size) {
  std::uint64_t first_bit = l.offset * 8U + l.bit_offset;
  std::uint64_t first = first_bit / 8;
  std::uint64_t end = (first_bit + l.bit_width + 7) / 8;
  for (std::uint64_t unit : {1U, 2U, 4U, 8U}) {
    std::uint64_t start = first / unit * unit;
    if (start + unit >= end && start + unit <= struct_size) {
      return l.offset == start && l.size == unit;
    }
  }
  return l.offset == first && l.size == end - first;
}

std::string compare_bits(const Case& c, std::size_t k, const Measured& m) {
  const Leaf& l = c.schema.node(c.leaves[k]).leaf;
  std::map<long, unsigned> expect;
  for (unsigned i = 0; i < l.bit_width; ++i) {
    std::uint64_t bit = l.offset * 8U + l.bit_offset + i;
    expect[static_cast<long>(bit / 8)] |= 1U << (bit % 8);
  }
  if (expect != m.bytes) {
    std::string got;
    for (auto [at, v] : m.bytes) got += " " + std::to_string(at) + ":" + std::to_string(v);
    return where(c, k) + "schema says bits " + std::to_string(l.offset) + ":" +
           std::to_string(l.bit_offset) + "+" + std::to_string(l.bit_width) + ", gcc sets bytes" +
           got;
  }
  if (!unit_is_minimal(l, c.schema.size())) return where(c, k) + "storage unit is not minimal";
  return {};
}

std::string compare(const Case& c, std::size_t i, const Gcc& gcc) {
  auto [size, align] = gcc.size_align[i];
  if (size != c.schema.size() || align != c.schema.align()) {
    return c.file + ": schema says size " + std::to_string(c.schema.size()) + " align " +
           std::to_string(c.schema.align()) + ", gcc says " + std::to_string(size) + " " +
           std::to_string(align);
  }
  for (std::size_t k = 0; k < c.leaves.size(); ++k) {
    const Leaf& l = c.schema.node(c.leaves[k]).leaf;
    const Measured& m = gcc.leaves[i][k];
    if (is_integer(l.type) && m.negative != (is_signed(l.type) ? 1 : 0)) {
      return where(c, k) + "signedness differs from gcc";
    }
    if (l.bit_width != 0) {
      if (auto e = compare_bits(c, k, m); !e.empty()) return e;
    } else if (m.offset != l.offset || m.size != l.size) {
      return where(c, k) + "schema says offset " + std::to_string(l.offset) + " size " +
             std::to_string(l.size) + ", gcc says offset " + std::to_string(m.offset) + " size " +
             std::to_string(m.size);
    }
  }
  return {};
}

std::string header_file(const std::string& dir, std::size_t id) {
  return dir + "/t" + std::to_string(id) + ".h";
}

/// Generates every header, then loads them several at a time: parsing is half the test's time,
/// and it shows that load_header_schema may be called from several threads.
std::string load_all(const std::string& dir, std::vector<Case>& cases) {
  layout::Generator generator;
  std::vector<layout::GeneratedHeader> headers;
  for (int id = 0; id < kStructs; ++id) {
    headers.push_back(generator.make(id));
    std::ofstream(header_file(dir, headers.size() - 1)) << headers.back().text;
  }
  std::vector<HeaderSchemaResult> results(headers.size());
  {
    unsigned n = std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
    std::vector<std::jthread> workers;
    for (unsigned t = 0; t < n; ++t) {
      workers.emplace_back([&, t] {
        for (std::size_t i = t; i < headers.size(); i += n) {
          results[i] = load_header_schema({header_file(dir, i), headers[i].struct_arg, {}});
        }
      });
    }
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (!results[i].schema) return header_file(dir, i) + ": " + results[i].error;
    cases.push_back(
        Case{std::move(headers[i]), header_file(dir, i), std::move(*results[i].schema), {}});
    collect(cases.back().schema, 0, cases.back().leaves);
    if (auto error = check_names(cases.back()); !error.empty()) return error;
  }
  return {};
}

TEST(LayoutTest, SchemaMatchesGccForRandomStructs) {
  char pattern[] = "/tmp/fieldfs-layout-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  std::vector<Case> cases;
  std::string mismatch = load_all(dir, cases);
  Gcc gcc;
  if (mismatch.empty()) mismatch = run_gcc(dir, cases, gcc);
  for (std::size_t i = 0; i < cases.size() && mismatch.empty(); ++i) {
    mismatch = compare(cases[i], i, gcc);
  }
  if (!mismatch.empty()) {
    mismatch += "\n" + read_text(mismatch.substr(0, mismatch.find(".h") + 2));
  }
  std::filesystem::remove_all(dir);
  EXPECT_EQ(mismatch, "");
  EXPECT_EQ(cases.size(), static_cast<std::size_t>(kStructs));
  std::size_t leaves = 0;
  for (const auto& c : cases) leaves += c.leaves.size();
  RecordProperty("leaves", std::to_string(leaves));
  std::printf("compared %zu structs, %zu leaves\n", cases.size(), leaves);
}

}  // namespace
}  // namespace fieldfs
