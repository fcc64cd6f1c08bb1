// SPDX-License-Identifier: MIT
#include "replica/document.hpp"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/codec.hpp"

namespace fieldfs {

namespace {

using Json = nlohmann::json;

/// FNV-1a, 64 bits: a fingerprint that tells schemas apart, not a defence against forgery.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool is_counter(const Leaf& leaf, const Leaf* counter) {
  return counter != nullptr && leaf.offset == counter->offset && leaf.bit_width == 0 &&
         leaf.size == counter->size;
}

}  // namespace

std::string schema_fingerprint(const Schema& schema) {
  std::string text = "struct " + schema.struct_name() + "\n";
  for (std::uint32_t i = 1; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    text += schema.path(i) + " " + n.type_name + (n.is_dir ? " dir" : "");
    if (!n.is_dir && n.leaf.bit_width != 0) text += " :" + std::to_string(n.leaf.bit_width);
    if (!n.is_dir && n.leaf.enum_index >= 0) {
      for (const auto& e : schema.enumerators(n.leaf.enum_index)) {
        text += " " + e.name + "=" + std::to_string(e.value);
      }
    }
    text += "\n";
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(text)));
  return hex;
}

Result<std::string> fleet_document(const Schema& schema, std::string image, const Leaf* counter,
                                   const std::string& fingerprint) {
  if (counter != nullptr && counter->offset + counter->size <= image.size()) {
    std::memset(image.data() + counter->offset, 0, counter->size);
  }
  auto state = render_json(schema, std::string_view(image));
  if (!state) return Error{state.error()};
  if (!state->empty() && state->back() == '\n') state->pop_back();
  return R"({"fieldfs": 1, "schema": ")" + fingerprint + R"(", "state": )" + *state + "}";
}

Result<FleetState> parse_fleet_document(std::string_view value) {
  auto doc = Json::parse(value, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("schema") ||
      !doc["schema"].is_string() || !doc.contains("state") || !doc["state"].is_object()) {
    return fail(std::errc::invalid_argument);
  }
  return FleetState{doc["schema"].get<std::string>(),
                    doc["state"].dump(-1, ' ', false, Json::error_handler_t::replace)};
}

std::vector<FieldStore> changed_fields(const Schema& schema, std::string_view from,
                                       std::string_view to, const Leaf* counter) {
  std::vector<FieldStore> out;
  if (from == to) return out;
  for (std::uint32_t i = 0; i < schema.node_count(); ++i) {
    const Node& n = schema.node(i);
    const Leaf& leaf = n.leaf;
    if (n.is_dir || leaf.is_const || is_counter(leaf, counter)) continue;
    if (leaf.offset + leaf.size > from.size() || leaf.offset + leaf.size > to.size()) continue;
    auto a = from.substr(leaf.offset, leaf.size);
    auto b = to.substr(leaf.offset, leaf.size);
    if (a == b || format_value(schema, leaf, a) == format_value(schema, leaf, b)) continue;
    out.push_back(FieldStore{&leaf, std::string(b)});
  }
  return out;
}

void apply_stores(std::string& image, const std::vector<FieldStore>& stores) {
  for (const auto& s : stores) {
    const Leaf& leaf = *s.leaf;
    if (leaf.offset + leaf.size > image.size() || s.bytes.size() != leaf.size) continue;
    std::uint64_t mask = bit_mask(leaf);
    for (std::uint32_t i = 0; i < leaf.size; ++i) {
      auto keep = leaf.bit_width == 0 ? 0xFF : static_cast<unsigned char>(mask >> (8 * i));
      auto old = static_cast<unsigned char>(image[leaf.offset + i]);
      auto now = static_cast<unsigned char>(s.bytes[i]);
      image[leaf.offset + i] = static_cast<char>((old & ~keep) | (now & keep));
    }
  }
}

}  // namespace fieldfs
