// Snapshot: an immutable, shareable image of a sandbox (memory, CPU state, what runs next) that
// sandboxes of the same configuration can be restored to or created from, and that can be saved.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "mote/config.hpp"
#include "mote/error.hpp"
#include "mote/value.hpp"

namespace mote {

// SHA-256.
using Digest = std::array<std::uint8_t, 32>;
std::string to_hex(const Digest& digest);

// What a sandbox made from the snapshot does first.
enum class NextAction : std::uint8_t {
  Initialise = 1,  // run the guest's initialisation (a snapshot of a binary, before init)
  Call = 2,        // ready for calls (a snapshot of an initialised sandbox)
};

class Snapshot {
 public:
  // A snapshot of a guest binary before its initialisation, for `config`'s memory sizes. No VM is
  // created. The binary is validated exactly as Sandbox::create does.
  static Result<std::shared_ptr<const Snapshot>> from_binary(std::span<const std::uint8_t> binary,
                                                             const SandboxConfig& config = {});

  // Loads a snapshot file written by save(). The memory is mapped from the file, not copied;
  // everything (header, sizes, SHA-256 of metadata and memory) is validated before use.
  static Result<std::shared_ptr<const Snapshot>> load(const std::filesystem::path& path);

  // Writes the snapshot to `path` atomically (a temporary file in the same directory, fsync,
  // rename). An existing file is replaced.
  Result<void> save(const std::filesystem::path& path) const;

  // Equal digests <=> equal snapshots (memory, CPU state, layout, next action, functions).
  const Digest& digest() const noexcept;
  // The configuration a sandbox must have to be restored to this snapshot.
  const Digest& config_identity() const noexcept;
  NextAction next_action() const noexcept;
  // The guest's functions (empty before initialisation).
  std::span<const FunctionSignature> functions() const noexcept;
  std::uint32_t abi_version() const noexcept;
  // Guest memory size, and how many of its 4 KiB pages hold data (live, non-zero pages).
  std::uint64_t memory_size() const noexcept;
  std::uint64_t stored_pages() const noexcept;

  struct State;  // internal
  const State& state() const noexcept { return *state_; }
  explicit Snapshot(std::unique_ptr<State> state);
  ~Snapshot();

 private:
  std::unique_ptr<State> state_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace mote
