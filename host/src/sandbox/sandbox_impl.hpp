// Sandbox::Impl: the state of one sandbox (memory, VM, function tables) and its call loop.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "mote/sandbox.hpp"
#include "vm/virtual_machine.hpp"

namespace mote {

struct Sandbox::Impl {
  SandboxConfig config;
  std::shared_ptr<const HostFunctions> host_functions;
  Layout layout;
  GuestMemory memory;
  std::unique_ptr<vm::VirtualMachine> vm;
  std::uint64_t entry = 0;      // guest address of the ELF entry point
  std::uint32_t abi_version = 0;
  std::vector<FunctionSignature> functions;
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> function_index;
  bool poisoned = false;
  std::vector<std::uint8_t> scratch;  // host-side copy of the last guest message

  Impl(SandboxConfig c, std::shared_ptr<const HostFunctions> h, Layout l, GuestMemory m)
      : config(std::move(c)), host_functions(std::move(h)), layout(l), memory(std::move(m)) {}

  // Runs one operation (MOTE_OP_INIT or MOTE_OP_CALL) to its MOTE_PORT_RETURN, serving host calls
  // and log records on the way. Any error poisons the sandbox when its kind says so.
  Result<void> run_operation(std::uint64_t op);
  // Copies the message at the start of the output buffer into `scratch` and returns the copy.
  Result<std::span<const std::uint8_t>> copy_output();

  Result<void> run_loop(std::uint64_t op);
  Result<void> serve_host_call();
  Result<void> serve_log();
  Error abort_error();
  Error fault_error();
};

}  // namespace mote
