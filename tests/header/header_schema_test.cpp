// SPDX-License-Identifier: MIT
#include <chrono>
#include <string>

#include "header_fixture.hpp"

namespace fieldfs {
namespace {

TEST_F(HeaderSchemaTest, MapsEveryScalarType) {
  auto s = schema(R"(#include <stdint.h>
#include <stdbool.h>
struct all { char c; signed char sc; unsigned char uc; short s; unsigned short us; int i;
  unsigned u; long l; unsigned long ul; long long ll; unsigned long long ull; int8_t i8;
  uint8_t u8; int16_t i16; uint16_t u16; int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
  bool b; _Bool b2; float f; double d; };)");
  expect_leaf(s, "c", Type::i8, 0, 1, "char");
  expect_leaf(s, "sc", Type::i8, 1, 1, "signed char");
  expect_leaf(s, "uc", Type::u8, 2, 1);
  expect_leaf(s, "s", Type::i16, 4, 2, "short");
  expect_leaf(s, "us", Type::u16, 6, 2);
  expect_leaf(s, "i", Type::i32, 8, 4, "int");
  expect_leaf(s, "u", Type::u32, 12, 4, "unsigned int");
  expect_leaf(s, "l", Type::i64, 16, 8);
  expect_leaf(s, "ul", Type::u64, 24, 8);
  expect_leaf(s, "ll", Type::i64, 32, 8);
  expect_leaf(s, "ull", Type::u64, 40, 8);
  expect_leaf(s, "i8", Type::i8, 48, 1, "int8_t");
  expect_leaf(s, "u8", Type::u8, 49, 1, "uint8_t");
  expect_leaf(s, "i16", Type::i16, 50, 2);
  expect_leaf(s, "u16", Type::u16, 52, 2);
  expect_leaf(s, "i32", Type::i32, 56, 4);
  expect_leaf(s, "u32", Type::u32, 60, 4, "uint32_t");
  expect_leaf(s, "i64", Type::i64, 64, 8);
  expect_leaf(s, "u64", Type::u64, 72, 8);
  expect_leaf(s, "b", Type::boolean, 80, 1, "_Bool");  // <stdbool.h> bool is a macro
  expect_leaf(s, "b2", Type::boolean, 81, 1, "_Bool");
  expect_leaf(s, "f", Type::f32, 84, 4, "float");
  expect_leaf(s, "d", Type::f64, 88, 8, "double");
  EXPECT_EQ(s.size(), 96U);
  EXPECT_EQ(s.align(), 8U);
  EXPECT_EQ(s.struct_name(), "all");
  EXPECT_EQ(names(s, "").front(), "c");
}

TEST_F(HeaderSchemaTest, CharArrayIsOneStringAndMacrosExpand) {
  auto s = schema("#define NAME_LEN 32\nstruct p { int id; char name[NAME_LEN]; };");
  expect_leaf(s, "name", Type::chars, 4, 32, "char[32]");
  EXPECT_EQ(s.size(), 36U);
}

TEST_F(HeaderSchemaTest, NestedStructsAndUnionsAreDirectoriesWithAbsoluteOffsets) {
  auto s = schema(R"(struct pos { short x, y; };
struct outer { char tag; struct inner { char a; struct pos p; } in; union { float f; int i; } u; };)",
                  "outer");
  EXPECT_TRUE(at(s, "in").is_dir);
  EXPECT_EQ(at(s, "in").type_name, "struct inner");
  expect_leaf(s, "in/a", Type::i8, 2, 1);
  expect_leaf(s, "in/p/x", Type::i16, 4, 2);
  expect_leaf(s, "in/p/y", Type::i16, 6, 2);
  EXPECT_EQ(at(s, "u").type_name, "union");
  expect_leaf(s, "u/f", Type::f32, 8, 4);
  expect_leaf(s, "u/i", Type::i32, 8, 4);
}

TEST_F(HeaderSchemaTest, AnonymousMembersAreFlattenedIntoTheirParent) {
  auto s = schema(R"(struct a { char c; struct { short x; union { int i; float f; }; };
  struct { char z; struct { double d; }; } named; };)");
  EXPECT_EQ(names(s, ""), (std::vector<std::string>{"c", "x", "i", "f", "named"}));
  expect_leaf(s, "x", Type::i16, 4, 2);
  expect_leaf(s, "i", Type::i32, 8, 4);
  expect_leaf(s, "f", Type::f32, 8, 4);
  expect_leaf(s, "named/z", Type::i8, 16, 1);
  expect_leaf(s, "named/d", Type::f64, 24, 8);
}

TEST_F(HeaderSchemaTest, ArraysBecomeNumberedDirectories) {
  auto s = schema(R"(#include <stdint.h>
struct pt { int x, y; };
struct a { uint16_t v[3]; int m[2][3]; struct pt pts[2]; signed char sc[2]; char names[2][4]; };)");
  EXPECT_EQ(names(s, "v"), (std::vector<std::string>{"0", "1", "2"}));
  expect_leaf(s, "v/2", Type::u16, 4, 2, "uint16_t");
  EXPECT_EQ(at(s, "m").type_name, "int[2][3]");
  expect_leaf(s, "m/1/2", Type::i32, 8 + 20, 4);
  expect_leaf(s, "pts/1/y", Type::i32, 32 + 12, 4);
  expect_leaf(s, "sc/1", Type::i8, 49, 1);
  expect_leaf(s, "names/1", Type::chars, 54, 4, "char[4]");
}

TEST_F(HeaderSchemaTest, EnumsCarryTheirEnumeratorsAndUnderlyingType) {
  auto s = schema(R"(enum color { red, green = 5, blue };
enum __attribute__((packed)) small { lo = -1, hi = 1 };
enum big { huge = 0x100000000 };
struct e { enum color c; enum color d; enum small s; enum big b; enum { x1 = 7 } anon; };)");
  const Leaf& c = at(s, "c").leaf;
  expect_leaf(s, "c", Type::u32, 0, 4, "enum color");
  EXPECT_EQ(c.enum_index, at(s, "d").leaf.enum_index);
  ASSERT_GE(c.enum_index, 0);
  const auto& values = s.enumerators(c.enum_index);
  ASSERT_EQ(values.size(), 3U);
  EXPECT_EQ(values[1].name, "green");
  EXPECT_EQ(values[2].value, 6);
  expect_leaf(s, "s", Type::i8, 8, 1);
  EXPECT_EQ(s.enumerators(at(s, "s").leaf.enum_index)[0].value, -1);
  expect_leaf(s, "b", Type::u64, 16, 8);
  EXPECT_EQ(at(s, "anon").type_name, "enum");
  EXPECT_EQ(s.enumerators(at(s, "anon").leaf.enum_index)[0].name, "x1");
}

TEST_F(HeaderSchemaTest, BitFieldsUseTheSmallestAlignedStorageUnit) {
  auto s = schema(R"(#include <stdbool.h>
enum mode { off, on };
struct b { unsigned a : 3; int n : 7; unsigned : 0; unsigned long long w : 40; bool f : 1;
  enum mode m : 2; unsigned : 5; short s : 9; };)");
  EXPECT_EQ(names(s, ""), (std::vector<std::string>{"a", "n", "w", "f", "m", "s"}));
  expect_bits(s, "a", 0, 1, 0, 3);
  EXPECT_EQ(at(s, "a").leaf.type, Type::u32);
  expect_bits(s, "n", 0, 2, 3, 7);
  EXPECT_EQ(at(s, "n").leaf.type, Type::i32);
  expect_bits(s, "w", 8, 8, 0, 40);
  expect_bits(s, "f", 13, 1, 0, 1);
  EXPECT_EQ(at(s, "f").leaf.type, Type::boolean);
  expect_bits(s, "m", 13, 1, 1, 2);
  EXPECT_GE(at(s, "m").leaf.enum_index, 0);
  expect_bits(s, "s", 14, 2, 0, 9);
}

TEST_F(HeaderSchemaTest, PackedBitFieldsFallBackToTheCoveringBytes) {
  auto s = schema("struct __attribute__((packed)) p { char c; unsigned v : 12; };");
  EXPECT_EQ(s.size(), 3U);
  expect_bits(s, "v", 1, 2, 0, 12);
  s = schema("struct __attribute__((packed)) q { char c; unsigned x : 4; unsigned v : 12; };");
  expect_bits(s, "v", 1, 2, 4, 12);
  EXPECT_EQ(error("struct __attribute__((packed)) r { char c : 4; unsigned long long w : 62; };"),
            "DIR/t.h:1:67: bit-field 'w' spans more than 8 bytes");
}

TEST_F(HeaderSchemaTest, ConstMembersAndWhatTheyContainAreReadOnly) {
  auto s = schema(R"(typedef const int cint;
struct in { int x; };
struct c { const int k; cint t; const struct in n; const short a[2]; int w; const char fw[8]; };)");
  EXPECT_TRUE(at(s, "k").leaf.is_const);
  EXPECT_TRUE(at(s, "t").leaf.is_const);
  EXPECT_TRUE(at(s, "n/x").leaf.is_const);
  EXPECT_TRUE(at(s, "a/1").leaf.is_const);
  EXPECT_FALSE(at(s, "w").leaf.is_const);
  EXPECT_TRUE(at(s, "fw").leaf.is_const);
  EXPECT_EQ(at(s, "k").type_name, "const int");
}

TEST_F(HeaderSchemaTest, TypedefsKeepTheirSpelling) {
  auto s = schema(R"(typedef unsigned short port_t;
typedef float vec3[3];
typedef struct { port_t port; vec3 v; } endpoint_t;
typedef struct conf_s { endpoint_t ep; } conf_t;)",
                  "conf_t");
  EXPECT_EQ(s.struct_name(), "conf_s");
  EXPECT_EQ(at(s, "ep").type_name, "endpoint_t");
  expect_leaf(s, "ep/port", Type::u16, 0, 2, "port_t");
  EXPECT_EQ(at(s, "ep/v").type_name, "vec3");
  expect_leaf(s, "ep/v/2", Type::f32, 12, 4, "float");
}

TEST_F(HeaderSchemaTest, AlignasAndPackedChangeTheLayoutAsTheCompilerDoes) {
  auto s = schema("struct a { char c; _Alignas(16) int x; _Alignas(8) char d[3]; };");
  expect_leaf(s, "x", Type::i32, 16, 4);
  expect_leaf(s, "d", Type::chars, 24, 3);
  EXPECT_EQ(s.size(), 32U);
  EXPECT_EQ(s.align(), 16U);
  s = schema("struct __attribute__((packed)) p { char c; int x; double d; };");
  expect_leaf(s, "x", Type::i32, 1, 4);
  expect_leaf(s, "d", Type::f64, 5, 8);
  EXPECT_EQ(s.size(), 13U);
  EXPECT_EQ(s.align(), 1U);
}

TEST_F(HeaderSchemaTest, AtomicScalarsAreTheirPlainType) {
  expect_leaf(schema("struct a { char c; _Atomic int n; };"), "n", Type::i32, 4, 4);
}

TEST_F(HeaderSchemaTest, TheShippedExampleUsesEveryKind) {
  auto r = load_header_schema({std::string(FIELDFS_SOURCE_DIR) + "/examples/every_kind.h", "", {}});
  ASSERT_TRUE(r.schema) << r.error;
  const Schema& s = *r.schema;
  bool seen[12] = {};
  bool bit_field = false;
  bool enumerated = false;
  bool read_only = false;
  for (std::uint32_t i = 1; i < s.node_count(); ++i) {
    const Node& n = s.node(i);
    if (n.is_dir) continue;
    seen[static_cast<int>(n.leaf.type)] = true;
    bit_field |= n.leaf.bit_width != 0;
    enumerated |= n.leaf.enum_index >= 0;
    read_only |= n.leaf.is_const;
  }
  for (bool b : seen) EXPECT_TRUE(b);
  EXPECT_TRUE(bit_field && enumerated && read_only);
}

}  // namespace
}  // namespace fieldfs

namespace fieldfs {
namespace {

// Plain structs take their offsets from the natural-alignment rule (clang 14 is O(n) per offset
// query); everything that can move a field off that rule must fall back to clang's layout.
TEST_F(HeaderSchemaTest, LayoutsThatBreakNaturalAlignmentStillComeFromClang) {
  auto packed = schema(R"(#pragma pack(push, 2)
struct p { char a; double d; int i; };
#pragma pack(pop))");
  expect_leaf(packed, "d", Type::f64, 2, 8);
  expect_leaf(packed, "i", Type::i32, 10, 4);
  auto field_packed = schema("struct q { char a; int b __attribute__((packed)); long c; };");
  expect_leaf(field_packed, "b", Type::i32, 1, 4);
  expect_leaf(field_packed, "c", Type::i64, 8, 8);
  auto aligned = schema("struct r { char a; _Alignas(16) int b; char c; };");
  expect_leaf(aligned, "b", Type::i32, 16, 4);
  expect_leaf(aligned, "c", Type::i8, 20, 1);
  auto typedef_aligned = schema(
      "typedef int wide __attribute__((aligned(8)));\nstruct t { char a; wide b; char c; };");
  expect_leaf(typedef_aligned, "b", Type::i32, 8, 4);
  expect_leaf(typedef_aligned, "c", Type::i8, 12, 1);
}

TEST_F(HeaderSchemaTest, AHundredThousandFieldsLoadInWellUnderASecond) {
  std::string text = "struct big {\n";
  for (int i = 0; i < 100000; ++i) text += "  int f" + std::to_string(i) + ";\n";
  text += "};\n";
  auto start = std::chrono::steady_clock::now();
  auto s = schema(text);
  auto took = std::chrono::steady_clock::now() - start;
  expect_leaf(s, "f99999", Type::i32, 399996, 4);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const auto bound = std::chrono::seconds(30);  // sanitizers slow libclang down many times
#else
  const auto bound = std::chrono::seconds(2);
#endif
  EXPECT_LT(took, bound) << "O(n), not O(n^2): was 96 s before";
  RecordProperty(
      "load_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

TEST_F(HeaderSchemaTest, EveryKindCrossesTheWireToFieldfsUnchanged) {
  auto r = load_header_schema({std::string(FIELDFS_SOURCE_DIR) + "/examples/every_kind.h", "", {}});
  ASSERT_TRUE(r.schema) << r.error;
  std::string wire = schema_to_wire(*r.schema);
  auto back = schema_from_wire(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(layout_text(*back), layout_text(*r.schema));
  EXPECT_EQ(schema_to_wire(*back), wire);
  EXPECT_GT(back->enum_count(), 0);
}

}  // namespace
}  // namespace fieldfs
