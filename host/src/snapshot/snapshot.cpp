// Snapshot: construction from a binary or from parts, digests and identity, accessors.
#include "mote/snapshot.hpp"

#include <fmt/format.h>

#include "snapshot/initial_image.hpp"
#include "snapshot/metadata.hpp"
#include "snapshot/sha256.hpp"
#include "snapshot/snapshot_state.hpp"

namespace mote {

std::string to_hex(const Digest& digest) {
  std::string out;
  for (std::uint8_t b : digest) out += fmt::format("{:02x}", b);
  return out;
}

Digest config_identity(const Layout& l, std::uint32_t abi_version) {
  SnapshotMetadata only_layout;  // the layout's canonical encoding, nothing else
  only_layout.layout = l;
  const auto encoded = encode_metadata(only_layout);
  return Sha256().update(std::span<const std::uint8_t>(
                             reinterpret_cast<const std::uint8_t*>("mote config identity v1"), 23))
      .update(encoded)
      .update_u64(abi_version)
      .finish();
}

Digest content_digest(const Digest& metadata_digest, const Digest& memory_digest) {
  return Sha256().update(std::span<const std::uint8_t>(
                             reinterpret_cast<const std::uint8_t*>("mote snapshot v1"), 16))
      .update(metadata_digest)
      .update(memory_digest)
      .finish();
}

std::shared_ptr<const Snapshot> make_snapshot(SnapshotMetadata meta, MemoryImage memory) {
  auto state = std::make_unique<Snapshot::State>(Snapshot::State{std::move(meta), std::move(memory)});
  state->identity = config_identity(state->meta.layout, state->meta.abi_version);
  state->digest = content_digest(Sha256::of(encode_metadata(state->meta)), state->memory.digest());
  return std::make_shared<const Snapshot>(std::move(state));
}

Result<std::shared_ptr<const Snapshot>> Snapshot::from_binary(std::span<const std::uint8_t> binary,
                                                              const SandboxConfig& config) {
  InitialImage initial = MOTE_TRY(build_initial_image(binary, config));
  auto bytes = MOTE_TRY(initial.memory.bytes(GuestAddress{0}, initial.memory.size()));
  MemoryImage memory = MOTE_TRY(MemoryImage::capture(bytes));
  return make_snapshot(std::move(initial.meta), std::move(memory));
}

Snapshot::Snapshot(std::unique_ptr<State> state) : state_(std::move(state)) {}
Snapshot::~Snapshot() = default;

const Digest& Snapshot::digest() const noexcept { return state_->digest; }
const Digest& Snapshot::config_identity() const noexcept { return state_->identity; }
NextAction Snapshot::next_action() const noexcept { return state_->meta.next; }
std::span<const FunctionSignature> Snapshot::functions() const noexcept {
  return state_->meta.functions;
}
std::uint32_t Snapshot::abi_version() const noexcept { return state_->meta.abi_version; }
std::uint64_t Snapshot::memory_size() const noexcept { return state_->memory.size(); }
std::uint64_t Snapshot::stored_pages() const noexcept { return state_->memory.stored_pages(); }

}  // namespace mote
