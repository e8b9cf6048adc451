// Sandbox: creation from a guest binary (load, lay out, map, boot) and typed calls into it.
#include "mote/sandbox.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "mote/abi.h"
#include "sandbox/exit_handler.hpp"
#include "sandbox/sandbox_impl.hpp"
#include "sandbox/watchdog.hpp"
#include "vm/kvm.hpp"
#include "wire/messages.hpp"

namespace mote {

namespace {

// Pages the guest may dirty and keep writable between restores (copied back every time instead
// of taking a write fault on their next use), and how often they are re-armed to drop cold ones.
constexpr std::uint64_t kStickyLimit = 64;
constexpr std::uint32_t kRearmInterval = 64;

Error guest_error(std::uint32_t status, std::string message) {
  return Error::from_guest(ErrorKind::GuestError, status, std::move(message));
}

}  // namespace

// ---- creation ---------------------------------------------------------------------------------

Result<Sandbox> Sandbox::create(std::span<const std::uint8_t> binary, HostFunctions host_functions,
                                SandboxConfig config) {
  SnapshotPtr initial = MOTE_TRY(Snapshot::from_binary(binary, config));
  return from_snapshot(std::move(initial), std::move(host_functions), std::move(config));
}

Result<Sandbox> Sandbox::from_snapshot(SnapshotPtr snapshot, HostFunctions host_functions,
                                       SandboxConfig config) {
  if (!snapshot) return fail(ErrorKind::InvalidSnapshot, "no snapshot given");
  const Snapshot::State& s = snapshot->state();
  // The snapshot's layout decides the sizes; keep the config truthful about them.
  config.stack_size = s.meta.layout.stack.size;
  config.heap_size = s.meta.layout.heap.size;
  config.input_size = s.meta.layout.input.size;
  config.output_size = s.meta.layout.output.size;
  config.log_level = static_cast<LogLevel>(s.meta.log_level);
  GuestMemory memory =
      MOTE_TRY(GuestMemory::map_copy_on_write(s.memory.fd(), s.memory.offset(), s.memory.size()));
  auto impl = std::make_unique<Impl>(std::move(config),
                                     std::make_shared<const HostFunctions>(std::move(host_functions)),
                                     s.meta.layout, std::move(memory));
  impl->vm = MOTE_TRY(vm::create_kvm_vm(impl->memory, s.meta.cpu));
  impl->control = std::make_shared<detail::CallControl>(impl->vm.get());
  impl->dirty.assign((impl->memory.size() / kPageSize + 63) / 64, 0);
  impl->adopt(snapshot);
  if (s.meta.next == NextAction::Initialise) MOTE_TRY_VOID(impl->initialise());
  return Sandbox(std::move(impl));
}

void Sandbox::Impl::adopt(const SnapshotPtr& snapshot) {
  const Snapshot::State& s = snapshot->state();
  base = snapshot;
  identity = s.identity;
  cpu = s.meta.cpu;
  abi_version = s.meta.abi_version;
  functions = s.meta.functions;
  function_index.clear();
  for (std::uint32_t i = 0; i < functions.size(); ++i) function_index.emplace(functions[i].name, i);
}

Result<void> Sandbox::Impl::initialise() {
  MOTE_TRY_VOID(run_operation(MOTE_OP_INIT));
  auto reply = MOTE_TRY(copy_output());
  const std::uint16_t kind = MOTE_TRY(wire::message_kind(reply));
  if (kind == MOTE_MSG_RESULT) {
    auto r = MOTE_TRY(wire::decode_result(reply, wire::kAnyType));
    if (r.status != MOTE_STATUS_OK) {
      return std::unexpected(guest_error(
          r.status, fmt::format("guest initialisation failed: {}", std::get<std::string>(r.value))));
    }
    return fail(ErrorKind::GuestProtocol, "the guest answered init with a result, not its functions");
  }
  functions = MOTE_TRY(wire::decode_function_table(reply));
  function_index.clear();
  for (std::uint32_t i = 0; i < functions.size(); ++i) function_index.emplace(functions[i].name, i);
  return {};
}

// ---- snapshots --------------------------------------------------------------------------------

Result<SnapshotPtr> Sandbox::snapshot() {
  Impl& s = *impl_;
  if (s.poisoned) {
    return fail(ErrorKind::Poisoned, "the sandbox is poisoned: restore a snapshot before taking one");
  }
  auto bytes = MOTE_TRY(s.memory.bytes(GuestAddress{0}, s.memory.size()));
  MemoryImage image = MOTE_TRY(MemoryImage::capture(bytes));
  SnapshotMetadata meta = s.base->state().meta;
  meta.cpu = s.cpu;
  meta.abi_version = s.abi_version;
  meta.next = NextAction::Call;
  meta.functions = s.functions;
  SnapshotPtr taken = make_snapshot(std::move(meta), std::move(image));
  MOTE_TRY_VOID(s.rebase(taken));
  return taken;
}

Result<void> Sandbox::restore(const SnapshotPtr& snapshot) {
  Impl& s = *impl_;
  if (!snapshot) return fail(ErrorKind::InvalidSnapshot, "no snapshot given");
  const Snapshot::State& target = snapshot->state();
  if (target.identity != s.identity) {
    return fail(ErrorKind::SnapshotMismatch,
                fmt::format("the snapshot belongs to configuration {}, this sandbox is {}",
                            to_hex(target.identity).substr(0, 16), to_hex(s.identity).substr(0, 16)));
  }
  auto result = [&]() -> Result<void> {
    if (s.cpu_state_dirty) {
      MOTE_TRY_VOID(s.vm->set_cpu_state(target.meta.cpu));
      s.cpu_state_dirty = false;
    }
    if (s.base->digest() == snapshot->digest()) {
      MOTE_TRY_VOID(s.reset_dirty_pages());
    } else {
      MOTE_TRY_VOID(s.memory.remap_copy_on_write(target.memory.fd(), target.memory.offset()));
      MOTE_TRY_VOID(s.rebase(snapshot));
    }
    if (s.base != snapshot) s.adopt(snapshot);
    s.poisoned = false;
    if (target.meta.next == NextAction::Initialise) MOTE_TRY_VOID(s.initialise());
    return {};
  }();
  if (!result) s.poisoned = true;  // memory or CPU state is unknown: only another restore helps
  return result;
}

Result<void> Sandbox::Impl::reset_dirty_pages() {
  MOTE_TRY_VOID(vm->dirty_pages(dirty));
  // The host's own writes to the buffers are invisible to KVM: restore them too.
  std::vector<std::uint64_t>& pages = dirty;
  std::uint64_t guest_dirty = 0;
  for (std::uint64_t w : pages) guest_dirty += static_cast<std::uint64_t>(std::popcount(w));
  const MemoryImage& image = base->state().memory;
  const auto copy_page = [&](std::uint64_t page) {
    std::uint8_t* to = memory.host_base() + page * kPageSize;
    if (image.stores(page)) {
      std::memcpy(to, image.bytes().data() + page * kPageSize, kPageSize);
    } else {
      std::memset(to, 0, kPageSize);  // a hole: reading it would allocate a zero page
    }
  };
  for (std::size_t word = 0; word < pages.size(); ++word) {
    for (std::uint64_t bits = pages[word]; bits != 0; bits &= bits - 1) {
      copy_page(word * 64 + static_cast<std::uint64_t>(std::countr_zero(bits)));
    }
  }
  const auto copy_written = [&](const Region& region, std::uint64_t bytes) {
    const std::uint64_t first = raw(region.base) / kPageSize;
    for (std::uint64_t p = 0; p * kPageSize < bytes; ++p) {
      const std::uint64_t page = first + p;
      if ((pages[page / 64] >> (page % 64) & 1) == 0) copy_page(page);
    }
  };
  copy_written(layout.input, host_written_input);
  copy_written(layout.output, host_written_output);
  host_written_input = host_written_output = 0;
  // Pages the guest wrote stay writable ("sticky") until there are too many or it is time to
  // re-arm them all: then only pages written again show up as dirty.
  if (++restores_since_rearm >= kRearmInterval || guest_dirty > kStickyLimit) {
    MOTE_TRY_VOID(vm->rearm_dirty_pages(pages));
    restores_since_rearm = 0;
  }
  return {};
}

Result<void> Sandbox::Impl::rebase(const SnapshotPtr& snapshot) {
  MOTE_TRY_VOID(vm->dirty_pages(dirty));
  MOTE_TRY_VOID(vm->rearm_dirty_pages(dirty));
  host_written_input = host_written_output = 0;
  restores_since_rearm = 0;
  if (base != snapshot) adopt(snapshot);
  return {};
}

const Digest& Sandbox::config_identity() const noexcept { return impl_->identity; }

InterruptHandle Sandbox::interrupt_handle() const { return InterruptHandle(impl_->control); }

Result<Sandbox> Sandbox::create_from_file(const std::filesystem::path& path,
                                          HostFunctions host_functions, SandboxConfig config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(ErrorKind::Io, fmt::format("{} is not a readable regular file", path.string()));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > SandboxConfig::kMaxMemory) {
    return fail(ErrorKind::InvalidBinary,
                fmt::format("{}: cannot take the size, or it exceeds 1 GiB", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(size);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    return fail(ErrorKind::Io, fmt::format("cannot read {}", path.string()));
  }
  return create(bytes, std::move(host_functions), std::move(config));
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::Sandbox(Sandbox&&) noexcept = default;
Sandbox& Sandbox::operator=(Sandbox&&) noexcept = default;
Sandbox::~Sandbox() = default;

std::span<const FunctionSignature> Sandbox::functions() const noexcept { return impl_->functions; }
const FunctionSignature* Sandbox::find_function(std::string_view name) const noexcept {
  auto it = impl_->function_index.find(name);
  return it == impl_->function_index.end() ? nullptr : &impl_->functions[it->second];
}
bool Sandbox::poisoned() const noexcept { return impl_->poisoned; }
std::uint32_t Sandbox::guest_abi_version() const noexcept { return impl_->abi_version; }
const SandboxConfig& Sandbox::config() const noexcept { return impl_->config; }

// ---- calls ------------------------------------------------------------------------------------

Result<Value> Sandbox::invoke(std::string_view function, std::span<const detail::WireArg> args,
                              ValueType expected_result) {
  Impl& s = *impl_;
  if (s.poisoned) {
    return fail(ErrorKind::Poisoned,
                "the sandbox is poisoned: an earlier call did not complete");
  }
  auto it = s.function_index.find(function);
  if (it == s.function_index.end()) {
    return fail(ErrorKind::UnknownFunction,
                fmt::format("the guest has no function named '{}'", function));
  }
  const FunctionSignature& sig = s.functions[it->second];
  if (args.size() != sig.params.size()) {
    return fail(ErrorKind::ArgumentCount,
                fmt::format("{} takes {} arguments, got {}", sig.to_string(), sig.params.size(),
                            args.size()));
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != sig.params[i]) {
      return fail(ErrorKind::ArgumentType,
                  fmt::format("argument {} of {} must be {}, got {}", i + 1, sig.to_string(),
                              to_string(sig.params[i]), to_string(args[i].type)));
    }
  }
  if (expected_result != wire::kAnyType && expected_result != sig.result) {
    return fail(ErrorKind::ReturnType,
                fmt::format("{} returns {}, the caller expects {}", sig.to_string(),
                            to_string(sig.result), to_string(expected_result)));
  }
  auto input = MOTE_TRY(s.memory.bytes(s.layout.input.base, s.layout.input.size));
  const std::size_t written = MOTE_TRY(wire::encode_call(input, it->second, args));
  s.host_written_input = std::max<std::uint64_t>(s.host_written_input, written);

  MOTE_TRY_VOID(s.run_operation(MOTE_OP_CALL));
  auto reply = s.copy_output();
  auto result = reply ? wire::decode_result(*reply, sig.result)
                      : Result<wire::ResultMessage>(std::unexpected(reply.error()));
  if (!result) {
    s.poisoned = poisons(result.error().kind());
    return std::unexpected(std::move(result).error());
  }
  if (result->status != MOTE_STATUS_OK) {
    return std::unexpected(guest_error(result->status, std::get<std::string>(std::move(result->value))));
  }
  return std::move(result->value);
}

Result<Value> Sandbox::call_dynamic(std::string_view function, std::span<const Value> args,
                                    ValueType expected_result) {
  std::vector<detail::WireArg> wire(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            wire[i] = detail::WireArg{ValueType::Void};
          } else {
            wire[i] = detail::to_wire_arg(v);
          }
        },
        args[i]);
  }
  return invoke(function, wire, expected_result);
}

// ---- the run loop -----------------------------------------------------------------------------

Result<void> Sandbox::Impl::run_operation(std::uint64_t op) {
  const std::uint64_t generation = control->begin_call();
  std::uint64_t ticket = 0;
  if (config.call_timeout.count() > 0) {
    ticket = detail::Watchdog::instance().arm(detail::Watchdog::Clock::now() + config.call_timeout,
                                              control, generation);
  }
  auto r = run_loop(op);
  if (ticket != 0) detail::Watchdog::instance().disarm(ticket);
  control->end_call();
  if (!r) poisoned = poisons(r.error().kind());
  return r;
}

Error Sandbox::Impl::cancelled_error() {
  control->clear_kick();  // the kill's immediate_exit must not reach the next call
  if (control->timed_out()) {
    return Error(ErrorKind::Cancelled, fmt::format("the call exceeded its time limit of {} ms",
                                                   config.call_timeout.count()));
  }
  return Error(ErrorKind::Cancelled, "the call was killed through its interrupt handle");
}

Result<void> Sandbox::Impl::run_loop(std::uint64_t op) {
  vm::GeneralRegisters regs{};
  regs.rip = raw(layout.entry_stub.base);  // resets x87/SSE/segments, then jumps to the ELF entry
  regs.rsp = raw(layout.stack_top());
  regs.rdi = op;
  regs.rsi = raw(layout.boot_info.base);
  regs.rflags = x86_64::kInitialRflags;
  MOTE_TRY_VOID(vm->discard_pending_exit());  // else KVM would resume an abandoned IN, not `regs`
  vm->set_registers(regs);
  for (;;) {
    if (!control->enter_guest()) return std::unexpected(cancelled_error());
    auto exit = vm->run();
    control->leave_guest();
    if (!exit) return std::unexpected(exit.error());
    switch (MOTE_TRY(classify_exit(*exit))) {
      case ExitAction::Return:
        return {};
      case ExitAction::HostCall:
        MOTE_TRY_VOID(serve_host_call());
        break;
      case ExitAction::Log:
        MOTE_TRY_VOID(serve_log());
        break;
      case ExitAction::Abort:
        return std::unexpected(abort_error());
      case ExitAction::Exception:
        return std::unexpected(fault_error());
      case ExitAction::Interrupted:
        if (control->cancelled()) return std::unexpected(cancelled_error());
        control->clear_kick();  // a kick meant for an earlier call: carry on
        break;
    }
  }
}

Result<std::span<const std::uint8_t>> Sandbox::Impl::copy_output() {
  std::array<std::uint8_t, sizeof(mote_message_header)> header;
  MOTE_TRY_VOID(memory.read(layout.output.base, header));
  const std::uint32_t size = MOTE_TRY(wire::announced_size(header, layout.output.size));
  scratch.resize(size);
  MOTE_TRY_VOID(memory.read(layout.output.base, scratch));
  return std::span<const std::uint8_t>(scratch);
}

Result<void> Sandbox::Impl::serve_host_call() {
  auto request = MOTE_TRY(copy_output());
  wire::HostCallMessage call = MOTE_TRY(wire::decode_host_call(request));
  auto output = MOTE_TRY(memory.bytes(layout.output.base, layout.output.size));
  const std::size_t answered = answer_host_call(call, output);
  host_written_output = std::max<std::uint64_t>(host_written_output, answered);
  return {};
}

std::size_t Sandbox::Impl::answer_host_call(const wire::HostCallMessage& call,
                                            std::span<std::uint8_t> output) {
  const HostFunctions::Entry* target = host_functions->find(call.name);
  if (target == nullptr) {
    return wire::encode_error(output, MOTE_STATUS_UNKNOWN_HOST_FUNCTION,
                              fmt::format("no host function named '{}'", call.name));
  }
  const FunctionSignature& sig = target->signature;
  bool types_match = call.args.size() == sig.params.size();
  for (std::size_t i = 0; types_match && i < call.args.size(); ++i) {
    types_match = type_of(call.args[i]) == sig.params[i];
  }
  if (!types_match) {
    std::string got;
    for (const Value& v : call.args) got += fmt::format("{}{}", got.empty() ? "" : ", ", to_string(type_of(v)));
    return wire::encode_error(output, MOTE_STATUS_ARGUMENT_MISMATCH,
                              fmt::format("host function {} called with ({})", sig.to_string(), got));
  }
  Result<Value> result = fail(ErrorKind::GuestError, "");
  struct HostCallScope {  // lets the host function see call_cancelled()
    explicit HostCallScope(const detail::CallControl* c) { detail::current_host_call = c; }
    ~HostCallScope() { detail::current_host_call = nullptr; }
  } scope(control.get());
  try {
    result = target->handler(call.args);
  } catch (const std::exception& e) {
    result = fail(ErrorKind::GuestError, fmt::format("host function '{}' threw: {}", call.name, e.what()));
  } catch (...) {
    result = fail(ErrorKind::GuestError, fmt::format("host function '{}' threw", call.name));
  }
  if (!result) {
    return wire::encode_error(output, MOTE_STATUS_HOST_FUNCTION_FAILED, result.error().message());
  }
  if (type_of(*result) != sig.result) {
    return wire::encode_error(output, MOTE_STATUS_HOST_FUNCTION_FAILED,
                              fmt::format("host function {} returned a {}", sig.to_string(),
                                          to_string(type_of(*result))));
  }
  if (auto n = wire::encode_result(output, *result)) return *n;
  return wire::encode_error(output, MOTE_STATUS_BUFFER_TOO_SMALL,
                            fmt::format("the result of host function '{}' does not fit the {}-byte "
                                        "output buffer", call.name, output.size()));
}

Result<void> Sandbox::Impl::serve_log() {
  auto message = MOTE_TRY(copy_output());
  wire::CodedText record = MOTE_TRY(wire::decode_coded_text(message, MOTE_MSG_LOG, MOTE_MAX_LOG_MESSAGE));
  const auto level = static_cast<LogLevel>(std::min<std::uint32_t>(record.code, MOTE_LOG_ERROR));
  if (config.log_sink) {
    config.log_sink(LogRecord{level, record.text});
  } else {
    std::fprintf(stderr, "[guest %s] %.*s\n", std::string(to_string(level)).c_str(),
                 static_cast<int>(record.text.size()), record.text.data());
  }
  return {};
}

Error Sandbox::Impl::abort_error() {
  auto message = copy_output();
  if (!message) return message.error();
  auto record = wire::decode_coded_text(*message, MOTE_MSG_ABORT, MOTE_MAX_ABORT_MESSAGE);
  if (!record) return record.error();
  return Error::from_guest(ErrorKind::GuestAborted, record->code,
                           fmt::format("guest aborted with code {}: {}", record->code, record->text));
}

Error Sandbox::Impl::fault_error() {
  cpu_state_dirty = true;  // the stub left the vCPU in ring 0
  auto frame = memory.read_object<x86_64::ExceptionFrame>(GuestAddress{vm->registers().rsp});
  if (!frame) return Error(ErrorKind::UnexpectedExit, "exception stub left no readable frame");
  std::uint64_t address = 0;
  if (frame->vector == 14) {
    auto cr2 = vm->fault_address();
    if (!cr2) return cr2.error();
    address = *cr2;
  }
  return describe_fault(*frame, address, layout, vm->registers().rcx);
}

}  // namespace mote
