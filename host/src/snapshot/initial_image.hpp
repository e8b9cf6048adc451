// The initial image of a guest: its memory and metadata before initialisation, built from the
// binary on the host (load, relocate, lay out, page tables, system tables, boot info).
#pragma once

#include <cstdint>
#include <span>

#include "memory/guest_memory.hpp"
#include "mote/config.hpp"
#include "mote/error.hpp"
#include "snapshot/snapshot_state.hpp"

namespace mote {

struct InitialImage {
  SnapshotMetadata meta;  // next = Initialise, no functions yet
  GuestMemory memory;
};

// Validates `binary` (refusing it before any VM exists) and builds its memory for `config`.
Result<InitialImage> build_initial_image(std::span<const std::uint8_t> binary,
                                         const SandboxConfig& config);

}  // namespace mote
