// SHA-256 on OpenSSL's EVP interface (hardware-accelerated where the CPU has SHA extensions).
#include "snapshot/sha256.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace mote {

struct Sha256::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  // Allocation failure inside OpenSSL is not recoverable here; a digest that silently skipped
  // bytes would be worse than stopping.
  if (context_->ctx == nullptr || EVP_DigestInit_ex(context_->ctx, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
}

Sha256::~Sha256() = default;

Sha256& Sha256::update(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty() && EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size()) != 1) std::abort();
  return *this;
}

Sha256& Sha256::update_u64(std::uint64_t value) {
  std::uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return update(le);
}

Digest Sha256::finish() {
  Digest d{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(context_->ctx, d.data(), &n) != 1 || n != d.size()) std::abort();
  return d;
}

Digest Sha256::of(std::span<const std::uint8_t> bytes) { return Sha256().update(bytes).finish(); }

}  // namespace mote
