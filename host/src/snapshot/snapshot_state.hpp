// Snapshot::State: everything a snapshot holds (the public Snapshot is a handle to it).
#pragma once

#include <cstdint>
#include <vector>

#include "arch/x86_64/system_tables.hpp"
#include "memory/layout.hpp"
#include "mote/snapshot.hpp"
#include "snapshot/memory_image.hpp"

namespace mote {

// The parts of a snapshot other than its memory: these are what metadata encodes.
struct SnapshotMetadata {
  Layout layout;
  x86_64::CpuState cpu;       // segments, descriptor tables, control registers
  std::uint64_t entry = 0;    // guest address of the ELF entry point
  std::uint32_t abi_version = 0;
  std::uint32_t log_level = 0;
  NextAction next = NextAction::Initialise;
  std::vector<FunctionSignature> functions;  // empty before initialisation
};

struct Snapshot::State {
  SnapshotMetadata meta;
  MemoryImage memory;
  Digest identity{};  // config_identity(meta.layout, meta.abi_version)
  Digest digest{};    // content_digest(metadata, memory)
};

// The identity of the configuration a snapshot belongs to: the layout (which the memory sizes and
// the image size determine) and the ABI version.
Digest config_identity(const Layout& layout, std::uint32_t abi_version);

// Equal for equal snapshots: covers the encoded metadata and the memory digest.
Digest content_digest(const Digest& metadata_digest, const Digest& memory_digest);

// Builds the shared snapshot from its parts, computing identity and digest.
std::shared_ptr<const Snapshot> make_snapshot(SnapshotMetadata meta, MemoryImage memory);

}  // namespace mote
