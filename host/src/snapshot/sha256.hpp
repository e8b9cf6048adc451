// SHA-256 through OpenSSL's libcrypto (Debian's libssl-dev): incremental hashing for digests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "mote/snapshot.hpp"

namespace mote {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::span<const std::uint8_t> bytes);
  Sha256& update_u64(std::uint64_t value);  // little-endian
  Digest finish();

  static Digest of(std::span<const std::uint8_t> bytes);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace mote
