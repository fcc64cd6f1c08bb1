// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/views.hpp"
#include "fieldfs/result.hpp"
#include "fieldfs/schema.hpp"

namespace fieldfs {

/// A fingerprint of what the struct is, not of how this ABI lays it out: every field's path and
/// type as the header spells it, and the enums' names and values. Hosts whose fingerprints are
/// equal exchange the struct as JSON whatever their CPU or ABI (SPEC §9).
std::string schema_fingerprint(const Schema& schema);

/// The value the fleet's key holds: {"fieldfs": 1, "schema": FINGERPRINT, "state": .json} with
/// the state rendered from `image` (the counter, which is each host's own, shown as 0).
Result<std::string> fleet_document(const Schema& schema, std::string image, const Leaf* counter,
                                   const std::string& fingerprint);

/// A fleet document taken apart.
struct FleetState {
  std::string fingerprint;
  std::string state;  ///< the struct as a .json document
};
/// EINVAL: not a document fleet_document made.
Result<FleetState> parse_fleet_document(std::string_view value);

/// The fields whose value differs between two images, with their bytes in `to`: const fields,
/// the counter, and bytes that do not change a value (after a string's NUL) left out.
std::vector<FieldStore> changed_fields(const Schema& schema, std::string_view from,
                                       std::string_view to, const Leaf* counter);

/// Applies stores to an image as Segment::store applies them to the mapping (a bit-field's
/// neighbours kept).
void apply_stores(std::string& image, const std::vector<FieldStore>& stores);

}  // namespace fieldfs
