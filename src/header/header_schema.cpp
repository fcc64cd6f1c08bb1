// SPDX-License-Identifier: MIT
#include "header/header_schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <new>
#include <utility>

#include "fieldfs/result.hpp"
#include "fieldfs/unique_fd.hpp"
#include "header/header_clang.hpp"

namespace fieldfs {
namespace detail {
namespace {

HeaderSchemaResult failure(std::string why) { return {std::nullopt, std::move(why)}; }

/// The header's text, or the one-line reason it cannot be had.
struct HeaderText {
  std::string text;
  std::string error;
};

std::string not_regular(const std::string& file) {
  return file + ": not a regular file (a schema is a C header file)";
}

std::string too_big(const std::string& file, std::uintmax_t size) {
  return file + ": " + std::to_string(size) + " bytes, more than the limit of " +
         std::to_string(kMaxSchemaBytes) + " for a schema";
}

/// Reads the header here and hands libclang the text, so that the file checked is the file
/// parsed: a regular file (a link to one is fine) of at most kMaxSchemaBytes. A FIFO or device
/// is refused before it is opened (libclang would block on a FIFO and read /dev/zero forever).
HeaderText read_header(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {{}, file + ": " + errno_text(errno)};
  if (S_ISDIR(st.st_mode)) return {{}, file + ": " + errno_text(EISDIR)};
  if (!S_ISREG(st.st_mode)) return {{}, not_regular(file)};
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return {{}, file + ": " + errno_text(errno)};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {{}, not_regular(file)};
  HeaderText out;
  char buf[65536];
  for (ssize_t got; (got = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return {{}, file + ": " + errno_text(errno)};
    out.text.append(buf, static_cast<std::size_t>(got));
    if (out.text.size() > kMaxSchemaBytes) return {{}, too_big(file, out.text.size())};
  }
  return out;
}

std::vector<std::string> compiler_args(const HeaderSchemaRequest& request) {
  std::vector<std::string> args{"-x", "c", "-std=gnu11"};
#ifdef FIELDFS_CLANG_RESOURCE_DIR
  // <stddef.h>, <stdbool.h>, <stdalign.h> live in clang's resource directory; libclang guesses
  // it from its own path, which distributions move, so pass the one found at build time.
  std::error_code ec;
  if (std::filesystem::is_directory(FIELDFS_CLANG_RESOURCE_DIR, ec)) {
    args.insert(args.end(), {"-resource-dir", FIELDFS_CLANG_RESOURCE_DIR});
  }
#endif
  for (const auto& dir : request.include_dirs) args.push_back("-I" + dir);
  return args;
}

struct DiagnosticDeleter {
  void operator()(void* d) const { clang_disposeDiagnostic(d); }
};

/// The first diagnostic of severity error or worse, as "FILE:LINE:COL: message".
std::string first_error(CXTranslationUnit unit, const std::string& file) {
  for (unsigned i = 0, n = clang_getNumDiagnostics(unit); i < n; ++i) {
    std::unique_ptr<void, DiagnosticDeleter> owner(clang_getDiagnostic(unit, i));
    CXDiagnostic d = owner.get();
    std::string message;
    if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
      CXSourceLocation at = clang_getDiagnosticLocation(d);
      CXFile where = nullptr;
      clang_getFileLocation(at, &where, nullptr, nullptr, nullptr);
      std::string text = take(clang_getDiagnosticSpelling(d));
      message = where != nullptr ? located(at, text) : file + ": " + std::move(text);
    }
    if (!message.empty()) return message;
  }
  return {};
}

bool is_struct_definition(CXCursor c) {
  return clang_getCursorKind(c) == CXCursor_StructDecl && clang_isCursorDefinition(c) != 0;
}

/// A struct's name for the schema: its tag, else the typedef that names it.
std::string struct_name(CXCursor record) {
  std::string tag = take(clang_getCursorSpelling(record));
  return tag.empty() ? spelling(clang_getCursorType(record)) : tag;
}

/// The struct definition a typedef names, if it names one.
std::optional<CXCursor> typedef_target(CXCursor c) {
  CXType target = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(c));
  if (target.kind != CXType_Record) return std::nullopt;
  CXCursor def = clang_getCursorDefinition(clang_getTypeDeclaration(target));
  if (!is_struct_definition(def)) return std::nullopt;
  return def;
}

/// The first struct definition or typedef called `name`, in source order, nested ones included
/// (in C a struct declared inside another has file scope).
void find_named(CXCursor parent, const std::string& name, std::optional<CXCursor>& found) {
  for (CXCursor c : children(parent)) {
    if (found) return;
    auto kind = clang_getCursorKind(c);
    std::string spelled = take(clang_getCursorSpelling(c));
    if (kind == CXCursor_TypedefDecl && spelled == name) {
      found = typedef_target(c);
    } else if (is_struct_definition(c) && spelled == name) {
      found = c;
    } else if (kind == CXCursor_StructDecl || kind == CXCursor_UnionDecl) {
      find_named(c, name, found);
    }
  }
}

std::optional<CXCursor> last_in_main_file(CXCursor unit) {
  std::optional<CXCursor> last;
  for (CXCursor c : children(unit)) {
    if (is_struct_definition(c) && clang_Location_isFromMainFile(clang_getCursorLocation(c)) != 0) {
      last = c;
    }
  }
  return last;
}

HeaderSchemaResult load(const HeaderSchemaRequest& request) {
  HeaderText header = read_header(request.file);
  if (!header.error.empty()) return failure(header.error);
  IndexPtr index(clang_createIndex(0, 0));
  if (!index) return failure(request.file + ": libclang cannot start");
  std::vector<std::string> args = compiler_args(request);
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.c_str());
  CXUnsavedFile text{request.file.c_str(), header.text.data(), header.text.size()};
  CXTranslationUnit raw = nullptr;
  CXErrorCode code = clang_parseTranslationUnit2(index.get(), request.file.c_str(), argv.data(),
                                                 static_cast<int>(argv.size()), &text, 1,
                                                 CXTranslationUnit_None, &raw);
  UnitPtr unit(raw);
  if (code == CXError_Crashed) {
    return failure(request.file + ": libclang crashed reading it (out of memory or time? an " +
                   "#include of a device or FIFO?)");
  }
  if (code != CXError_Success || !unit) {
    return failure(request.file + ": libclang cannot parse it (error " +
                   std::to_string(static_cast<int>(code)) + ")");
  }
  if (auto error = first_error(unit.get(), request.file); !error.empty()) return failure(error);
  CXCursor root = clang_getTranslationUnitCursor(unit.get());
  std::optional<CXCursor> record;
  if (request.struct_name.empty()) {
    record = last_in_main_file(root);
    if (!record) return failure(request.file + ": no struct defined");
  } else {
    find_named(root, request.struct_name, record);
    if (!record) return failure(request.file + ": no struct named " + request.struct_name);
  }
  return schema_from_record(*record, struct_name(*record));
}

}  // namespace
}  // namespace detail

HeaderSchemaResult load_header_schema(const HeaderSchemaRequest& request) {
  try {
    return detail::load(request);
  } catch (const std::bad_alloc&) {
    return {std::nullopt, request.file + ": " + errno_text(ENOMEM)};
  } catch (...) {
    return {std::nullopt, request.file + ": unexpected failure while reading the header"};
  }
}

}  // namespace fieldfs
