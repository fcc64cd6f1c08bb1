// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fieldfs/schema.hpp"

namespace fieldfs {

/// The largest schema file the front end reads (16 MiB): a header, not a stream.
inline constexpr std::uintmax_t kMaxSchemaBytes = std::uintmax_t{16} << 20;

/// What `-o schema=FILE,struct=NAME,include=DIR` asks for.
struct HeaderSchemaRequest {
  std::string file;                       ///< the C header
  std::string struct_name;                ///< a struct tag or typedef name; "" = last defined
  std::vector<std::string> include_dirs;  ///< extra -I directories, searched in order
};

/// Either a schema or a one-line reason: "FILE:LINE:COL: message" or "FILE: message".
struct HeaderSchemaResult {
  std::optional<Schema> schema;
  std::string error;
};

/// Parses `request.file` as C (gnu11) with libclang and lays out the chosen struct exactly as
/// the platform's C compiler does. Fails if the file is not a regular file of at most
/// kMaxSchemaBytes, with the first compiler error, or with the location of a struct without
/// fields or of a member that cannot live in shared memory (pointers, flexible arrays, long
/// double, ...). Never throws.
HeaderSchemaResult load_header_schema(const HeaderSchemaRequest& request);

}  // namespace fieldfs
