// Sandbox: creation from a guest binary (load, lay out, map, boot) and typed calls into it.
#include "mote/sandbox.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "arch/x86_64/page_tables.hpp"
#include "arch/x86_64/system_tables.hpp"
#include "elf/elf_image.hpp"
#include "mote/abi.h"
#include "sandbox/exit_handler.hpp"
#include "sandbox/sandbox_impl.hpp"
#include "vm/kvm.hpp"
#include "wire/messages.hpp"

namespace mote {

namespace {

// The image's pages as elf::page_ranges lays them out (a page shared by two segments gets the
// union of their permissions), placed at `base`.
std::vector<x86_64::PageMapping> image_mappings(const elf::ElfImage& image, GuestAddress base) {
  std::vector<x86_64::PageMapping> out;
  for (const elf::PageRange& r : elf::page_ranges(image)) {
    out.push_back({base + r.start, r.size, true, r.writable, r.executable});
  }
  return out;
}

std::vector<x86_64::PageMapping> system_mappings(const Layout& l) {
  return {
      {l.gdt.base, l.gdt.size, false, false, false},
      {l.idt.base, l.idt.size, false, false, false},
      {l.tss.base, l.tss.size, false, false, false},
      {l.stubs.base, l.stubs.size, false, false, true},
      {l.exception_stack.base, l.exception_stack.size, false, true, false},
      {l.boot_info.base, l.boot_info.size, true, false, false},
      {l.stack.base, l.stack.size, true, true, false},
      {l.heap.base, l.heap.size, true, true, false},
      {l.input.base, l.input.size, true, false, false},
      {l.output.base, l.output.size, true, true, false},
  };
}

mote_boot_info boot_info_for(const Layout& l, const SandboxConfig& config) {
  mote_boot_info b{};
  b.magic = MOTE_BOOT_INFO_MAGIC;
  b.abi_version = MOTE_ABI_VERSION;
  b.heap_base = raw(l.heap.base);
  b.heap_size = l.heap.size;
  b.input_base = raw(l.input.base);
  b.input_size = l.input.size;
  b.output_base = raw(l.output.base);
  b.output_size = l.output.size;
  b.stack_base = raw(l.stack.base);
  b.stack_size = l.stack.size;
  b.log_level = static_cast<std::uint32_t>(config.log_level);
  return b;
}

Error guest_error(std::uint32_t status, std::string message) {
  return Error::from_guest(ErrorKind::GuestError, status, std::move(message));
}

}  // namespace

// ---- creation ---------------------------------------------------------------------------------

Result<Sandbox> Sandbox::create(std::span<const std::uint8_t> binary, HostFunctions host_functions,
                                SandboxConfig config) {
  MOTE_TRY_VOID(config.validate());
  const elf::ElfImage image = MOTE_TRY(elf::parse(binary));
  const Layout layout = MOTE_TRY(compute_layout(config, image.image_size, image.alignment));
  GuestMemory memory = MOTE_TRY(GuestMemory::allocate(layout.total_size));

  auto image_bytes = MOTE_TRY(memory.bytes(layout.image.base, image.image_size));
  MOTE_TRY_VOID(elf::load(image, binary, image_bytes, raw(layout.image.base)));

  auto mappings = system_mappings(layout);
  auto image_pages = image_mappings(image, layout.image.base);
  mappings.insert(mappings.end(), image_pages.begin(), image_pages.end());
  const std::uint64_t cr3 = MOTE_TRY(x86_64::build_page_tables(memory, layout.page_tables, mappings));
  const x86_64::CpuState cpu = MOTE_TRY(x86_64::write_system_tables(memory, layout, cr3));
  MOTE_TRY_VOID(memory.write_object(layout.boot_info.base, boot_info_for(layout, config)));

  auto impl = std::make_unique<Impl>(std::move(config),
                                     std::make_shared<const HostFunctions>(std::move(host_functions)),
                                     layout, std::move(memory));
  impl->entry = raw(layout.image.base) + image.entry;
  impl->abi_version = image.abi_version;
  impl->vm = MOTE_TRY(vm::create_kvm_vm(impl->memory, cpu));

  MOTE_TRY_VOID(impl->run_operation(MOTE_OP_INIT));
  auto reply = MOTE_TRY(impl->copy_output());
  const std::uint16_t kind = MOTE_TRY(wire::message_kind(reply));
  if (kind == MOTE_MSG_RESULT) {
    auto r = MOTE_TRY(wire::decode_result(reply, wire::kAnyType));
    if (r.status != MOTE_STATUS_OK) {
      return std::unexpected(guest_error(
          r.status, fmt::format("guest initialisation failed: {}", std::get<std::string>(r.value))));
    }
    return fail(ErrorKind::GuestProtocol, "the guest answered init with a result, not its functions");
  }
  impl->functions = MOTE_TRY(wire::decode_function_table(reply));
  for (std::uint32_t i = 0; i < impl->functions.size(); ++i) {
    impl->function_index.emplace(impl->functions[i].name, i);
  }
  return Sandbox(std::move(impl));
}

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
  MOTE_TRY_VOID(wire::encode_call(input, it->second, args));

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
  auto r = run_loop(op);
  if (!r) poisoned = poisons(r.error().kind());
  return r;
}

Result<void> Sandbox::Impl::run_loop(std::uint64_t op) {
  vm::GeneralRegisters regs{};
  regs.rip = entry;
  regs.rsp = raw(layout.stack_top());
  regs.rdi = op;
  regs.rsi = raw(layout.boot_info.base);
  regs.rflags = x86_64::kInitialRflags;
  vm->set_registers(regs);
  for (;;) {
    const vm::VmExit exit = MOTE_TRY(vm->run());
    switch (MOTE_TRY(classify_exit(exit))) {
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

  const HostFunctions::Entry* target = host_functions->find(call.name);
  if (target == nullptr) {
    wire::encode_error(output, MOTE_STATUS_UNKNOWN_HOST_FUNCTION,
                       fmt::format("no host function named '{}'", call.name));
    return {};
  }
  const FunctionSignature& sig = target->signature;
  bool types_match = call.args.size() == sig.params.size();
  for (std::size_t i = 0; types_match && i < call.args.size(); ++i) {
    types_match = type_of(call.args[i]) == sig.params[i];
  }
  if (!types_match) {
    std::string got;
    for (const Value& v : call.args) got += fmt::format("{}{}", got.empty() ? "" : ", ", to_string(type_of(v)));
    wire::encode_error(output, MOTE_STATUS_ARGUMENT_MISMATCH,
                       fmt::format("host function {} called with ({})", sig.to_string(), got));
    return {};
  }
  Result<Value> result = fail(ErrorKind::GuestError, "");
  try {
    result = target->handler(call.args);
  } catch (const std::exception& e) {
    result = fail(ErrorKind::GuestError, fmt::format("host function '{}' threw: {}", call.name, e.what()));
  } catch (...) {
    result = fail(ErrorKind::GuestError, fmt::format("host function '{}' threw", call.name));
  }
  if (!result) {
    wire::encode_error(output, MOTE_STATUS_HOST_FUNCTION_FAILED, result.error().message());
  } else if (type_of(*result) != sig.result) {
    wire::encode_error(output, MOTE_STATUS_HOST_FUNCTION_FAILED,
                       fmt::format("host function {} returned a {}", sig.to_string(),
                                   to_string(type_of(*result))));
  } else if (!wire::encode_result(output, *result)) {
    wire::encode_error(output, MOTE_STATUS_BUFFER_TOO_SMALL,
                       fmt::format("the result of host function '{}' does not fit the {}-byte "
                                   "output buffer", call.name, output.size()));
  }
  return {};
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
  auto frame = memory.read_object<x86_64::ExceptionFrame>(GuestAddress{vm->registers().rsp});
  if (!frame) return Error(ErrorKind::UnexpectedExit, "exception stub left no readable frame");
  std::uint64_t address = 0;
  if (frame->vector == 14) {
    auto cr2 = vm->fault_address();
    if (!cr2) return cr2.error();
    address = *cr2;
  }
  return describe_fault(*frame, address, layout);
}

}  // namespace mote
