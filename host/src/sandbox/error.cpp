// Error: names of error kinds and exception vectors, and the one poisoning classification.
#include "mote/error.hpp"

#include <array>

#include <fmt/format.h>

namespace mote {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidConfig: return "invalid config";
    case ErrorKind::InvalidBinary: return "invalid guest binary";
    case ErrorKind::AbiMismatch: return "ABI mismatch";
    case ErrorKind::Io: return "I/O error";
    case ErrorKind::HypervisorUnavailable: return "hypervisor unavailable";
    case ErrorKind::Hypervisor: return "hypervisor error";
    case ErrorKind::UnknownFunction: return "unknown function";
    case ErrorKind::ArgumentCount: return "wrong argument count";
    case ErrorKind::ArgumentType: return "wrong argument type";
    case ErrorKind::ReturnType: return "wrong return type";
    case ErrorKind::InputTooLarge: return "input too large";
    case ErrorKind::GuestError: return "guest error";
    case ErrorKind::GuestAborted: return "guest aborted";
    case ErrorKind::GuestFault: return "guest fault";
    case ErrorKind::GuestProtocol: return "guest protocol violation";
    case ErrorKind::UnexpectedExit: return "unexpected VM exit";
    case ErrorKind::Poisoned: return "sandbox poisoned";
    case ErrorKind::InvalidSnapshot: return "invalid snapshot";
    case ErrorKind::SnapshotMismatch: return "snapshot mismatch";
    case ErrorKind::Cancelled: return "call cancelled";
  }
  return "unknown error";
}

// The one place that decides which errors leave a sandbox unusable: those raised while the guest
// was running and did not reach its normal end. Errors found before the guest ran, and errors the
// guest returned on purpose, leave it intact.
bool poisons(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidConfig:
    case ErrorKind::InvalidBinary:
    case ErrorKind::AbiMismatch:
    case ErrorKind::Io:
    case ErrorKind::HypervisorUnavailable:
    case ErrorKind::UnknownFunction:
    case ErrorKind::ArgumentCount:
    case ErrorKind::ArgumentType:
    case ErrorKind::ReturnType:
    case ErrorKind::InputTooLarge:
    case ErrorKind::GuestError:
    case ErrorKind::Poisoned:
    case ErrorKind::InvalidSnapshot:
    case ErrorKind::SnapshotMismatch:
      return false;
    case ErrorKind::Hypervisor:
    case ErrorKind::GuestAborted:
    case ErrorKind::GuestFault:
    case ErrorKind::GuestProtocol:
    case ErrorKind::UnexpectedExit:
    case ErrorKind::Cancelled:
      return true;
  }
  return true;
}

std::string_view exception_name(std::uint8_t vector) noexcept {
  static constexpr std::array<std::string_view, 32> kNames = {
      "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "CSO", "TS", "NP", "SS", "GP", "PF", "RES15",
      "MF", "AC", "MC", "XM", "VE", "CP", "RES22", "RES23", "RES24", "RES25", "RES26", "RES27",
      "HV", "VC", "SX", "RES31"};
  return vector < kNames.size() ? kNames[vector] : "??";
}

std::string Error::to_string() const {
  return fmt::format("{}: {}", mote::to_string(kind_), message_);
}

}  // namespace mote
