// Errors as values: a closed ErrorKind, a message, and the guest's detail where there is one.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mote {

// Every way an operation of the library can fail. Closed: code that switches on it lists every
// kind, so adding one is a compile error everywhere it must be considered.
enum class ErrorKind : std::uint8_t {
  InvalidConfig,          // a SandboxConfig value is out of range
  InvalidBinary,          // the guest binary is not a loadable mote guest (refused before any VM)
  AbiMismatch,            // the guest's ABI note names another ABI version
  Io,                     // reading a file failed
  HypervisorUnavailable,  // /dev/kvm is missing or unusable
  Hypervisor,             // a KVM call failed
  UnknownFunction,        // the guest exports no function of that name
  ArgumentCount,          // wrong number of arguments for the function's signature
  ArgumentType,           // an argument's type differs from the signature
  ReturnType,             // the caller expected another return type than the signature's
  InputTooLarge,          // the call does not fit the configured input buffer
  GuestError,             // the guest function returned an error (code + message); not poisoning
  GuestAborted,           // the guest aborted (code + message)
  GuestFault,             // a CPU exception in the guest (vector, RIP, address)
  GuestProtocol,          // the guest broke the ABI (bad message, unknown port, ...)
  UnexpectedExit,         // KVM stopped the vCPU for a reason the ABI does not allow
  Poisoned,               // a previous call did not complete; the sandbox refuses work
  InvalidSnapshot,        // a snapshot file is malformed, corrupted, or from another format/arch
  SnapshotMismatch,       // the snapshot belongs to another configuration than the sandbox
  Cancelled,              // the call was killed through an InterruptHandle or hit its time limit
};

std::string_view to_string(ErrorKind kind) noexcept;

// Whether an error of this kind leaves the sandbox poisoned (the guest did not finish cleanly).
bool poisons(ErrorKind kind) noexcept;

// A CPU exception raised by guest code.
struct GuestFault {
  std::uint8_t vector = 0;       // x86 exception vector (0..31)
  std::uint64_t error_code = 0;  // the CPU's error code, 0 where the vector has none
  std::uint64_t rip = 0;         // guest instruction that faulted
  std::uint64_t address = 0;     // page faults: the faulting linear address (CR2); else 0
};

std::string_view exception_name(std::uint8_t vector) noexcept;

class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  // A guest-reported error (returned by a guest function, or an abort) with the guest's code.
  static Error from_guest(ErrorKind kind, std::uint32_t code, std::string message) {
    Error e(kind, std::move(message));
    e.guest_code_ = code;
    return e;
  }
  static Error from_fault(const GuestFault& fault, std::string message) {
    Error e(ErrorKind::GuestFault, std::move(message));
    e.fault_ = fault;
    return e;
  }

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }
  // For GuestError and GuestAborted: the code the guest reported. 0 otherwise.
  std::uint32_t guest_code() const noexcept { return guest_code_; }
  // For GuestFault: the exception's detail.
  const std::optional<GuestFault>& fault() const noexcept { return fault_; }

  // "<kind>: <message>", for logs and the CLI.
  std::string to_string() const;

 private:
  ErrorKind kind_;
  std::string message_;
  std::uint32_t guest_code_ = 0;
  std::optional<GuestFault> fault_;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error(kind, std::move(message)));
}

}  // namespace mote

// Evaluates a Result expression; on error returns the error from the enclosing function,
// otherwise yields the value (GNU statement expression; GCC and Clang).
#define MOTE_TRY(expr)                                                          \
  ({                                                                            \
    auto mote_try_result_ = (expr);                                             \
    if (!mote_try_result_) return std::unexpected(std::move(mote_try_result_).error()); \
    std::move(mote_try_result_).value();                                        \
  })

// The same, for Result<void>.
#define MOTE_TRY_VOID(expr)                                                     \
  do {                                                                          \
    auto mote_try_result_ = (expr);                                             \
    if (!mote_try_result_) return std::unexpected(std::move(mote_try_result_).error()); \
  } while (false)
