// libFuzzer target: decode_metadata on file bytes; what it accepts must re-encode to those bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "snapshot/metadata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> copy(data, data + size);  // exact-size heap copy for ASan
  const auto meta = mote::decode_metadata(std::span<const std::uint8_t>(copy));
  if (!meta) {
    FUZZ_CHECK(meta.error().kind() == mote::ErrorKind::InvalidSnapshot);
    return 0;
  }
  // The encoding is canonical (equal metadata <=> equal bytes): decoding then encoding is the
  // identity on every accepted input.
  const std::vector<std::uint8_t> again = mote::encode_metadata(*meta);
  FUZZ_CHECK(again.size() == copy.size());
  FUZZ_CHECK(std::memcmp(again.data(), copy.data(), copy.size()) == 0);
  return 0;
}
