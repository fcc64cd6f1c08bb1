// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include "header_fixture.hpp"

namespace fieldfs {
namespace {

TEST_F(HeaderSchemaTest, ChoosesTheStructByTagByTypedefOrTheLastOne) {
  const char* text = R"(struct first { int a; };
typedef struct { double d; } second_t;
struct third { struct nested { char z; } n; };
)";
  EXPECT_EQ(schema(text).struct_name(), "third");
  EXPECT_EQ(schema(text, "first").struct_name(), "first");
  EXPECT_EQ(schema(text, "second_t").struct_name(), "second_t");
  EXPECT_EQ(schema(text, "second_t").size(), 8U);
  EXPECT_EQ(schema(text, "nested").size(), 1U);
  EXPECT_EQ(error(text, "fourth"), "DIR/t.h: no struct named fourth");
  EXPECT_EQ(error("typedef int x;\nunion u { int a; };\n"), "DIR/t.h: no struct defined");
  EXPECT_EQ(error("typedef int x;\n", "x"), "DIR/t.h: no struct named x");
}

TEST_F(HeaderSchemaTest, IncludeDirectoriesAreSearched) {
  write("inc/common.h", "#define N 4\nstruct hdr { unsigned char v[N]; };\n");
  const char* text = "#include \"common.h\"\nstruct m { struct hdr h; int x; };\n";
  auto r = load(text, "", {dir_ + "/inc"});
  ASSERT_TRUE(r.schema) << r.error;
  expect_leaf(*r.schema, "h/v/3", Type::u8, 3, 1);
  expect_leaf(*r.schema, "x", Type::i32, 4, 4);
  EXPECT_EQ(error(text), "DIR/t.h:1:10: 'common.h' file not found");
}

TEST_F(HeaderSchemaTest, RefusesMembersThatCannotBeShared) {
  EXPECT_EQ(error("struct a {\n  int x;\n  char *p;\n};"),
            "DIR/t.h:3:9: pointer member 'p' cannot be shared between processes");
  EXPECT_EQ(error("struct a { int (*fn)(void); };"),
            "DIR/t.h:1:18: pointer member 'fn' cannot be shared between processes");
  EXPECT_EQ(error("struct in { int *q[2]; };\nstruct a { int x; struct in i; };"),
            "DIR/t.h:1:18: pointer member 'q' cannot be shared between processes");
  EXPECT_EQ(error("struct a { int n; int x[]; };"), "DIR/t.h:1:23: flexible array member 'x'");
  EXPECT_EQ(error("struct a { long double x; };"),
            "DIR/t.h:1:24: long double member 'x' is not supported");
  EXPECT_EQ(error("struct a { _Complex double z; };"),
            "DIR/t.h:1:28: _Complex member 'z' is not supported");
  EXPECT_EQ(error("struct a { int v __attribute__((vector_size(16))); };"),
            "DIR/t.h:1:16: vector member 'v' is not supported");
  EXPECT_EQ(error("struct a { int n; int x[0]; };"), "DIR/t.h:1:23: zero-length array member 'x'");
  EXPECT_EQ(error("struct a { __int128 h; };"),
            "DIR/t.h:1:21: member 'h' of type '__int128' is not supported");
}

TEST_F(HeaderSchemaTest, ReportsCompilerErrorsWithTheirLocation) {
  EXPECT_EQ(error("struct a {\n  int x;\n  int y\n};\nstruct b { undefined_t z; };\n"),
            "DIR/t.h:5:12: unknown type name 'undefined_t'");
  EXPECT_EQ(error("struct a { int x; } }"), "DIR/t.h:1:21: expected identifier or '('");
  EXPECT_EQ(error("#include <no_such_header.h>\n"),
            "DIR/t.h:1:10: 'no_such_header.h' file not found");
  auto r = load_header_schema({dir_ + "/missing.h", "", {}});
  EXPECT_EQ(r.error, dir_ + "/missing.h: No such file or directory");
  r = load_header_schema({dir_, "", {}});
  EXPECT_EQ(r.error, dir_ + ": Is a directory");
}

TEST_F(HeaderSchemaTest, EnforcesTheSizeAndFieldLimits) {
  EXPECT_EQ(error("struct a { char big[2000000]; };"),
            "DIR/t.h:1:8: struct a is 2000000 bytes, more than the limit of 1048576");
  EXPECT_EQ(error("struct a { int many[200000]; };"), "DIR/t.h:1:16: more than 100000 fields");
}

TEST_F(HeaderSchemaTest, AnEmptyStructIsRefusedWithFileLineCol) {
  EXPECT_EQ(error("struct empty {};\n"),
            "DIR/t.h:1:8: struct empty has no fields: there is nothing to share");
  EXPECT_EQ(error("struct inner {};\nstruct outer { struct inner i; };\n"),
            "DIR/t.h:2:8: struct outer has no fields: there is nothing to share");
}

TEST_F(HeaderSchemaTest, ASchemaIsARegularFileOfBoundedSize) {
  std::string fifo = dir_ + "/fifo.h";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& path : {std::string("/dev/zero"), fifo}) {
    EXPECT_EQ(load_header_schema({path, "", {}}).error,
              path + ": not a regular file (a schema is a C header file)");
  }
  std::string text = "struct a { int x; };\n";
  std::string big = write("big.h", text + std::string(kMaxSchemaBytes - text.size() + 1, ' '));
  EXPECT_EQ(load_header_schema({big, "", {}}).error,
            big + ": 16777217 bytes, more than the limit of 16777216 for a schema");
  std::filesystem::resize_file(big, kMaxSchemaBytes);
  EXPECT_TRUE(load_header_schema({big, "", {}}).schema) << "the limit itself is fine";
  std::filesystem::create_symlink(big, dir_ + "/link.h");
  EXPECT_TRUE(load_header_schema({dir_ + "/link.h", "", {}}).schema) << "a link to a header";
}

}  // namespace
}  // namespace fieldfs
