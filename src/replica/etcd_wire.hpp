// SPDX-License-Identifier: MIT
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fieldfs/result.hpp"
#include "replica/etcd.hpp"

namespace fieldfs::detail {

/// Standard base64 with padding, as the gateway encodes bytes fields.
std::string base64_encode(std::string_view bytes);
/// EINVAL: not base64 (a bad character, length or padding).
Result<std::string> base64_decode(std::string_view text);

/// An int64 the gateway writes as a decimal string (or a number); 0 when absent.
std::int64_t wire_int(const nlohmann::json& object, const char* name);
/// A KeyValue of the gateway (absent: exists=false) with the header's revision. EPROTO: bad.
Result<EtcdKey> wire_key(const nlohmann::json* kv, const nlohmann::json& header);

/// Sets up a POST of `body` (kept alive by the caller) to `url`, the reply appended to *out.
/// EIO when curl refuses an option (out of memory).
Result<void> prepare_post(CURL* handle, const std::string& url, const std::string& body,
                          std::string* out);

}  // namespace fieldfs::detail
