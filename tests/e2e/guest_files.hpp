// Test helper: paths and bytes of the guest binaries this tree builds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mote::test {

inline std::filesystem::path guest_path(const std::string& name) {
  return std::filesystem::path(MOTE_GUEST_DIR) / name;
}

inline std::vector<std::uint8_t> guest_bytes(const std::string& name) {
  std::ifstream in(guest_path(name), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace mote::test
