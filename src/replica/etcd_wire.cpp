// SPDX-License-Identifier: MIT
#include "replica/etcd_wire.hpp"

#include <array>
#include <charconv>

namespace fieldfs::detail {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of a base64 character, -1 for anything else.
int sextet(char c) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
      t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    }
    return t;
  }();
  return table[static_cast<unsigned char>(c)];
}

std::size_t append_reply(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

/// Content-Type, and no "Expect: 100-continue" round trip before bodies over 1 KiB.
curl_slist* json_headers() {
  static curl_slist* const headers = [] {
    curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
    return curl_slist_append(h, "Expect:");
  }();
  return headers;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    const std::size_t left = bytes.size() - i;
    if (left > 1) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (left > 2) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += left > 1 ? kAlphabet[(n >> 6) & 63] : '=';
    out += left > 2 ? kAlphabet[n & 63] : '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return fail(std::errc::invalid_argument);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return fail(std::errc::invalid_argument);
    std::uint32_t n = 0;
    for (int j = 0; j < 4 - pad; ++j) {
      const int v = sextet(text[i + static_cast<std::size_t>(j)]);
      if (v < 0) return fail(std::errc::invalid_argument);
      n |= static_cast<std::uint32_t>(v) << (18 - 6 * j);
    }
    out += static_cast<char>((n >> 16) & 255);
    if (pad < 2) out += static_cast<char>((n >> 8) & 255);
    if (pad < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

std::int64_t wire_int(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return 0;
  const auto& s = it->get_ref<const std::string&>();
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Result<EtcdKey> wire_key(const nlohmann::json* kv, const nlohmann::json& header) {
  EtcdKey key;
  key.revision = wire_int(header, "revision");
  if (kv == nullptr) return key;
  if (!kv->is_object()) return fail(std::errc::protocol_error);
  key.exists = true;
  key.mod_revision = wire_int(*kv, "mod_revision");
  const auto value = kv->find("value");
  if (value == kv->end()) return key;  // proto3 JSON leaves an empty value out
  if (!value->is_string()) return fail(std::errc::protocol_error);
  auto bytes = base64_decode(value->get_ref<const std::string&>());
  if (!bytes) return fail(std::errc::protocol_error);
  key.value = std::move(*bytes);
  return key;
}

Result<void> prepare_post(CURL* handle, const std::string& url, const std::string& body,
                          std::string* out) {
  const bool ok = curl_easy_setopt(handle, CURLOPT_URL, url.c_str()) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str()) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                                   static_cast<curl_off_t>(body.size())) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, json_headers()) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_reply) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_WRITEDATA, out) == CURLE_OK &&
                  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
  if (!ok) return fail(std::errc::io_error);
  return {};
}

}  // namespace fieldfs::detail
