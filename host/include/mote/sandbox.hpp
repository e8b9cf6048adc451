// Sandbox: one guest in one micro-VM; created from a guest binary, then called by function name.
#pragma once

#include <bit>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "mote/config.hpp"
#include "mote/error.hpp"
#include "mote/host_functions.hpp"
#include "mote/interrupt.hpp"
#include "mote/snapshot.hpp"
#include "mote/value.hpp"

namespace mote {

namespace detail {

// One argument as the encoder sees it: a scalar's bits, or a view of string/bytes data.
struct WireArg {
  ValueType type;
  std::uint64_t bits = 0;
  const std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
};

template <class T>
constexpr ValueType scalar_type() {
  if constexpr (std::is_same_v<T, bool>) return ValueType::Bool;
  else if constexpr (std::is_same_v<T, float>) return ValueType::F32;
  else if constexpr (std::is_same_v<T, double>) return ValueType::F64;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4)
    return std::is_signed_v<T> ? ValueType::I32 : ValueType::U32;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8)
    return std::is_signed_v<T> ? ValueType::I64 : ValueType::U64;
  else static_assert(sizeof(T) == 0, "unsupported argument type for a mote call");
}

template <class A>
WireArg to_wire_arg(const A& arg) {
  using T = std::remove_cvref_t<A>;
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    std::string_view s = arg;
    return {ValueType::String, 0, reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  } else if constexpr (std::is_convertible_v<const T&, std::span<const std::uint8_t>>) {
    std::span<const std::uint8_t> b = arg;
    return {ValueType::Bytes, 0, b.data(), b.size()};
  } else {
    constexpr ValueType type = scalar_type<T>();
    std::uint64_t bits = 0;
    if constexpr (std::is_same_v<T, float>) {
      bits = std::bit_cast<std::uint32_t>(arg);
    } else if constexpr (std::is_same_v<T, double>) {
      bits = std::bit_cast<std::uint64_t>(arg);
    } else if constexpr (std::is_same_v<T, bool>) {
      bits = arg ? 1 : 0;
    } else if constexpr (std::is_signed_v<T>) {
      bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(arg));
    } else {
      bits = static_cast<std::uint64_t>(arg);
    }
    return {type, bits, nullptr, 0};
  }
}

template <class R>
Result<R> from_value(Value&& value) {
  if constexpr (std::is_void_v<R>) {
    return {};
  } else if constexpr (std::is_same_v<R, Value>) {
    return std::move(value);
  } else {
    return std::get<R>(std::move(value));
  }
}

}  // namespace detail

class Sandbox {
 public:
  // Loads and validates the guest binary (the bytes are copied), creates the VM and runs the
  // guest's initialisation. A malformed binary is refused before any VM exists.
  static Result<Sandbox> create(std::span<const std::uint8_t> binary,
                                HostFunctions host_functions = {}, SandboxConfig config = {});
  // The same, reading the binary from a file.
  static Result<Sandbox> create_from_file(const std::filesystem::path& path,
                                          HostFunctions host_functions = {},
                                          SandboxConfig config = {});

  // Creates a sandbox (a new VM) straight from a snapshot: its memory is mapped copy-on-write
  // from the snapshot's, and a snapshot taken after initialisation needs no guest init at all.
  // The memory sizes and log level are the snapshot's; `config` contributes the log sink.
  static Result<Sandbox> from_snapshot(SnapshotPtr snapshot, HostFunctions host_functions = {},
                                       SandboxConfig config = {});

  // Captures the sandbox between calls: memory, CPU state, functions. Refused while poisoned.
  // The sandbox is unchanged and can take further, independent snapshots.
  Result<SnapshotPtr> snapshot();

  // Resets everything the guest can see to `snapshot` (memory, registers, x87/SSE state) and
  // clears poisoning. The snapshot must have this sandbox's configuration identity
  // (ErrorKind::SnapshotMismatch otherwise). Restoring the snapshot the sandbox was last restored
  // to or created from costs time proportional to the pages written since, not to memory size.
  Result<void> restore(const SnapshotPtr& snapshot);

  // A handle that stops this sandbox's running call from any thread (see InterruptHandle). It
  // stays valid after the sandbox is destroyed (kill() then returns false).
  InterruptHandle interrupt_handle() const;

  // The identity of this sandbox's configuration (see Snapshot::config_identity).
  const Digest& config_identity() const noexcept;

  Sandbox(Sandbox&&) noexcept;
  Sandbox& operator=(Sandbox&&) noexcept;
  ~Sandbox();

  // Calls the guest function `function` with typed arguments and returns its result as R
  // (void, int32_t, uint32_t, int64_t, uint64_t, float, double, bool, std::string, Bytes, or
  // Value for any). Arguments: the integer types, float, double, bool, anything convertible to
  // std::string_view (string) or std::span<const uint8_t> (bytes). Argument and return types are
  // checked against the guest's declared signature before the guest runs. Not thread-safe: one
  // call at a time per sandbox.
  template <class R = void, class... A>
  Result<R> call(std::string_view function, const A&... args) {
    const detail::WireArg wire[] = {detail::to_wire_arg(args)..., detail::WireArg{ValueType::Void}};
    auto value = invoke(function, std::span(wire, sizeof...(A)), result_type<R>());
    if (!value) return std::unexpected(std::move(value).error());
    return detail::from_value<R>(std::move(value).value());
  }

  // The dynamic form: a list of values and the expected return type.
  Result<Value> call_dynamic(std::string_view function, std::span<const Value> args,
                             ValueType expected_result);

  // The functions the guest registered during initialisation, in index order.
  std::span<const FunctionSignature> functions() const noexcept;
  const FunctionSignature* find_function(std::string_view name) const noexcept;

  // True after a call that did not complete (guest fault, abort, protocol violation); calls are
  // then refused with ErrorKind::Poisoned.
  bool poisoned() const noexcept;
  std::uint32_t guest_abi_version() const noexcept;
  const SandboxConfig& config() const noexcept;

  struct Impl;

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  template <class R>
  static constexpr ValueType result_type() {
    if constexpr (std::is_same_v<R, Value>) return static_cast<ValueType>(0xff);  // any
    else return ValueTypeOf<R>::value;
  }
  Result<Value> invoke(std::string_view function, std::span<const detail::WireArg> args,
                       ValueType expected_result);

  std::unique_ptr<Impl> impl_;
};

}  // namespace mote
