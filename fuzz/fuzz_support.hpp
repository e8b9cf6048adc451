// Helpers shared by the fuzz targets: an always-on check and a zero-padding little-endian reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

// Like assert(), but also in release builds (the fuzz build is RelWithDebInfo, with NDEBUG).
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

namespace mote::fuzz {

// Reads fixed-size little-endian fields off the front of the input; past its end every byte
// reads as zero, so that every input (even an empty one) decodes to something.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> data) : data_(data) {}

  template <class T>
  T get() {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{byte()} << (8 * i);
    return static_cast<T>(v);
  }
  // The bytes not read yet.
  std::span<const std::uint8_t> rest() const { return data_.subspan(pos_); }

 private:
  std::uint8_t byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }

  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace mote::fuzz
