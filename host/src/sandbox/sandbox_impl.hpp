// Sandbox::Impl: the state of one sandbox (memory, VM, function tables) and its call loop.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "mote/sandbox.hpp"
#include "sandbox/call_control.hpp"
#include "snapshot/snapshot_state.hpp"
#include "wire/messages.hpp"
#include "vm/virtual_machine.hpp"

namespace mote {

struct Sandbox::Impl {
  SandboxConfig config;
  std::shared_ptr<const HostFunctions> host_functions;
  Layout layout;
  GuestMemory memory;
  std::unique_ptr<vm::VirtualMachine> vm;
  std::shared_ptr<detail::CallControl> control;  // shared with interrupt handles and the watchdog
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

  // Restore bookkeeping. Guest memory is a copy-on-write mapping of base's memory, and equals it
  // except for the pages KVM reports dirty and the buffer bytes the host wrote since.
  SnapshotPtr base;
  Digest identity{};
  x86_64::CpuState cpu;                 // the control state the vCPU should have
  bool cpu_state_dirty = false;         // a fault left the vCPU in ring 0
  std::vector<std::uint64_t> dirty;     // bitmap scratch, one bit per page
  std::uint64_t host_written_input = 0;   // bytes at the start of the input buffer
  std::uint64_t host_written_output = 0;  // bytes at the start of the output buffer
  std::uint32_t restores_since_rearm = 0;

  Impl(SandboxConfig c, std::shared_ptr<const HostFunctions> h, Layout l, GuestMemory m)
      : config(std::move(c)), host_functions(std::move(h)), layout(l), memory(std::move(m)) {}
  // Interrupt handles may outlive the sandbox: cut them off before the VM goes away.
  ~Impl() {
    if (control) control->detach();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Takes the snapshot's functions, ABI version and CPU state, and makes it the base.
  void adopt(const SnapshotPtr& snapshot);
  // Runs the guest's initialisation and reads its function table.
  Result<void> initialise();
  // Copies back the pages written since the base was last in place (restore of the same base).
  Result<void> reset_dirty_pages();
  // Forgets all dirty state: memory now equals `snapshot` (taken or remapped just now).
  Result<void> rebase(const SnapshotPtr& snapshot);

  // Runs one operation (MOTE_OP_INIT or MOTE_OP_CALL) to its MOTE_PORT_RETURN, serving host calls
  // and log records on the way. Any error poisons the sandbox when its kind says so.
  Result<void> run_operation(std::uint64_t op);
  // Copies the message at the start of the output buffer into `scratch` and returns the copy.
  Result<std::span<const std::uint8_t>> copy_output();

  Result<void> run_loop(std::uint64_t op);
  Result<void> serve_host_call();
  // Runs the host function a guest asked for and writes its answer into `output`; returns the
  // answer's size in bytes.
  std::size_t answer_host_call(const wire::HostCallMessage& call, std::span<std::uint8_t> output);
  Result<void> serve_log();
  Error abort_error();
  Error cancelled_error();
  Error fault_error();
};

}  // namespace mote
