// Snapshot metadata codec: a canonical little-endian encoding (equal metadata <=> equal bytes),
// used for the digest and for the metadata section of snapshot files.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mote/error.hpp"
#include "snapshot/snapshot_state.hpp"

namespace mote {

std::vector<std::uint8_t> encode_metadata(const SnapshotMetadata& meta);

// Decodes and checks every field (bounds, enum values, layout consistency); errors are
// ErrorKind::InvalidSnapshot.
Result<SnapshotMetadata> decode_metadata(std::span<const std::uint8_t> bytes);

}  // namespace mote
