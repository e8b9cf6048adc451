// Writes the fuzzers' seed corpus (fuzz/corpus/<target>/) with the library's own encoders.
//
//   mote_fuzz_corpus <corpus dir>
//
// `make fuzz-corpus` runs it and adds a stripped empty_guest to the ELF corpus.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/x86_64/system_tables.hpp"
#include "elf_builder.hpp"
#include "memory/layout.hpp"
#include "mote/abi.h"
#include "mote/config.hpp"
#include "snapshot/metadata.hpp"
#include "wire/messages.hpp"

namespace mote::fuzz {
namespace {

using ByteVector = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

void write_file(const fs::path& path, std::span<const std::uint8_t> bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "mote_fuzz_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

template <class T>
void put(ByteVector& bytes, std::size_t offset, const T& value) {
  if (bytes.size() < offset + sizeof(T)) bytes.resize(offset + sizeof(T));
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

void put_header(ByteVector& bytes, std::uint16_t kind) {
  mote_message_header h{};
  h.magic = MOTE_MESSAGE_MAGIC;
  h.kind = kind;
  h.size = static_cast<std::uint32_t>(bytes.size());
  put(bytes, 0, h);
}

ByteVector result_message(const Value& value) {
  ByteVector buffer(4096);
  const auto n = wire::encode_result(buffer, value);
  if (!n) std::exit(1);
  buffer.resize(*n);
  return buffer;
}

ByteVector error_message(std::uint32_t status, std::string_view text) {
  ByteVector buffer(4096);
  buffer.resize(wire::encode_error(buffer, status, text));
  return buffer;
}

// A MOTE_MSG_LOG or MOTE_MSG_ABORT: the result layout with a code and a string.
ByteVector coded_text(std::uint16_t kind, std::uint32_t code, std::string_view text) {
  ByteVector bytes = error_message(code, text);
  put_header(bytes, kind);
  return bytes;
}

// A guest's host call, laid out as the guest runtime writes it: records, then name, then bytes.
ByteVector host_call(std::string_view name, const std::vector<mote_value>& args,
                     std::string_view payload) {
  ByteVector bytes(MOTE_CALL_ARGS_OFFSET + args.size() * sizeof(mote_value));
  mote_call call{};
  call.function_index = MOTE_INDEX_NONE;
  call.arg_count = static_cast<std::uint32_t>(args.size());
  call.name_offset = static_cast<std::uint32_t>(bytes.size());
  call.name_size = static_cast<std::uint32_t>(name.size());
  bytes.insert(bytes.end(), name.begin(), name.end());
  const std::size_t payload_at = bytes.size();
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  bytes.push_back(0);
  while (bytes.size() % 8 != 0) bytes.push_back(0);
  put(bytes, sizeof(mote_message_header), call);
  for (std::size_t i = 0; i < args.size(); ++i) {
    mote_value v = args[i];
    if (v.type == MOTE_TYPE_STRING || v.type == MOTE_TYPE_BYTES) v.bits = payload_at;
    put(bytes, MOTE_CALL_ARGS_OFFSET + i * sizeof(mote_value), v);
  }
  put_header(bytes, MOTE_MSG_HOST_CALL);
  return bytes;
}

mote_value scalar(std::uint8_t type, std::uint64_t bits, std::uint32_t size = 0) {
  mote_value v{};
  v.type = type;
  v.bits = bits;
  v.size = size;
  return v;
}

struct Export {
  std::string name;
  std::uint8_t result;
  std::vector<std::uint8_t> params;
};

ByteVector function_table(const std::vector<Export>& exports) {
  constexpr std::size_t kEntries = sizeof(mote_message_header) + sizeof(mote_function_table);
  ByteVector bytes(kEntries + exports.size() * sizeof(mote_function_entry));
  mote_function_table table{};
  table.count = static_cast<std::uint32_t>(exports.size());
  put(bytes, sizeof(mote_message_header), table);
  for (std::size_t i = 0; i < exports.size(); ++i) {
    mote_function_entry e{};
    e.name_offset = static_cast<std::uint32_t>(bytes.size());
    e.name_size = static_cast<std::uint32_t>(exports[i].name.size());
    e.return_type = exports[i].result;
    e.param_count = static_cast<std::uint8_t>(exports[i].params.size());
    std::ranges::copy(exports[i].params, e.param_types);
    bytes.insert(bytes.end(), exports[i].name.begin(), exports[i].name.end());
    put(bytes, kEntries + i * sizeof(mote_function_entry), e);
  }
  while (bytes.size() % 8 != 0) bytes.push_back(0);
  put_header(bytes, MOTE_MSG_FUNCTION_TABLE);
  return bytes;
}

void wire_corpus(const fs::path& dir) {
  write_file(dir / "result_void", result_message(Value{}));
  write_file(dir / "result_i32", result_message(Value{std::int32_t{-42}}));
  write_file(dir / "result_u64", result_message(Value{std::uint64_t{1} << 63}));
  write_file(dir / "result_f32", result_message(Value{1.5f}));
  write_file(dir / "result_f64", result_message(Value{-0.25}));
  write_file(dir / "result_bool", result_message(Value{true}));
  write_file(dir / "result_string", result_message(Value{std::string("hello, host")}));
  write_file(dir / "result_bytes", result_message(Value{Bytes{0, 1, 2, 0xff}}));
  write_file(dir / "result_error", error_message(MOTE_STATUS_USER_BASE + 1, "no such user"));
  write_file(dir / "log", coded_text(MOTE_MSG_LOG, MOTE_LOG_WARN, "low on heap"));
  write_file(dir / "abort", coded_text(MOTE_MSG_ABORT, MOTE_ABORT_RUNTIME_ERROR, "assertion failed"));
  write_file(dir / "host_call_scalars",
             host_call("add", {scalar(MOTE_TYPE_I32, 0xffff'ffff'ffff'fff6), scalar(MOTE_TYPE_U64, 7),
                               scalar(MOTE_TYPE_BOOL, 1), scalar(MOTE_TYPE_F64, 0x4000'0000'0000'0000)},
                       ""));
  write_file(dir / "host_call_string",
             host_call("greet", {scalar(MOTE_TYPE_STRING, 0, 5)}, "world"));
  write_file(dir / "host_call_no_args", host_call("now", {}, ""));
  write_file(dir / "function_table",
             function_table({{"add", MOTE_TYPE_I32, {MOTE_TYPE_I32, MOTE_TYPE_I32}},
                             {"greet", MOTE_TYPE_STRING, {MOTE_TYPE_STRING}},
                             {"reset", MOTE_TYPE_VOID, {}}}));
  // A host -> guest call: decoders refuse its kind, but it is a well-formed message.
  std::vector<detail::WireArg> wire_args;
  wire_args.push_back(detail::to_wire_arg(std::int32_t{1}));
  wire_args.push_back(detail::to_wire_arg(std::string_view("x")));
  ByteVector call(4096);
  const auto n = wire::encode_call(call, 3, wire_args);
  if (!n) std::exit(1);
  call.resize(*n);
  write_file(dir / "call", call);
}

SnapshotMetadata metadata(NextAction next, std::vector<FunctionSignature> functions) {
  const auto layout = compute_layout(SandboxConfig{}, 0x4000, 0x1000);
  if (!layout) std::exit(1);
  SnapshotMetadata m;
  m.layout = *layout;
  m.cpu.code = {.base = 0, .limit = 0xffff'ffff, .selector = 0x33, .type = 11, .present = 1,
                .dpl = 3, .db = 0, .s = 1, .l = 1, .g = 1, .unusable = 0};
  m.cpu.data = {.base = 0, .limit = 0xffff'ffff, .selector = 0x2b, .type = 3, .present = 1,
                .dpl = 3, .db = 1, .s = 1, .l = 0, .g = 1, .unusable = 0};
  m.cpu.task = {.base = raw(layout->tss.base), .limit = 0x2067, .selector = 0x40, .type = 11,
                .present = 1, .dpl = 0, .db = 0, .s = 0, .l = 0, .g = 0, .unusable = 0};
  m.cpu.gdt = {.base = raw(layout->gdt.base), .limit = 0x4f};
  m.cpu.idt = {.base = raw(layout->idt.base), .limit = 0x1ff};
  m.cpu.cr3 = raw(layout->page_tables.base);
  m.entry = raw(layout->image.base) + 0x1000;
  m.abi_version = MOTE_ABI_VERSION;
  m.log_level = MOTE_LOG_INFO;
  m.next = next;
  m.functions = std::move(functions);
  return m;
}

void metadata_corpus(const fs::path& dir) {
  write_file(dir / "before_init", encode_metadata(metadata(NextAction::Initialise, {})));
  write_file(dir / "initialised",
             encode_metadata(metadata(
                 NextAction::Call,
                 {{.name = "add", .params = {ValueType::I32, ValueType::I32}, .result = ValueType::I32},
                  {.name = "greet", .params = {ValueType::String}, .result = ValueType::String},
                  {.name = "reset", .params = {}, .result = ValueType::Void}})));
}

void elf_corpus(const fs::path& dir) {
  using namespace mote::elf_test;
  write_file(dir / "synthetic_valid", build(valid_guest()));
  // (an empty table would make elf_builder's build() memcpy from a null pointer)
  write_file(dir / "synthetic_only_none_relocation",
             build(valid_guest({.abi_version = MOTE_ABI_VERSION, .with_note = true,
                                .relocations = {{0, R_X86_64_NONE, 0}}, .extra_dynamic = {}})));
  write_file(dir / "synthetic_other_abi", build(valid_guest(
      {.abi_version = MOTE_ABI_VERSION + 1, .with_note = true,
       .relocations = GuestOptions{}.relocations, .extra_dynamic = {}})));
  ElfSpec big_alignment = valid_guest();
  for (auto& p : big_alignment.phdrs) {
    if (p.p_type == PT_LOAD) p.p_align = 0x20'0000;
  }
  write_file(dir / "synthetic_2mib_alignment", build(big_alignment));
  ElfSpec shared_page = valid_guest();  // the RW segment starts right after the code, mid-page
  shared_page.phdrs[kLoadRW].p_vaddr = kCodeVaddr + kCodeSize;
  shared_page.phdrs[kLoadRW].p_paddr = kCodeVaddr + kCodeSize;
  shared_page.phdrs[kLoadRW].p_offset = kCodeVaddr + kCodeSize;
  write_file(dir / "synthetic_shared_page", build(shared_page));
}

// exit_fuzz input: see the layout at the top of exit_fuzz.cpp.
ByteVector exit_input(std::uint8_t which, std::uint16_t port, std::uint64_t vector,
                      std::uint64_t error_code, std::uint64_t fault_address, std::string_view detail,
                      std::uint64_t rip = 0x10'1234) {
  ByteVector bytes;
  std::size_t at = 0;
  auto add = [&](auto value) {
    put(bytes, at, value);
    at += sizeof(value);
  };
  add(which), add(port), add(std::uint32_t{0x2a}), add(std::uint64_t{0xfee0'0000}), add(std::uint8_t{1});
  add(vector), add(error_code), add(rip), add(std::uint64_t{0x33}),
      add(std::uint64_t{0x202}), add(std::uint64_t{0x7f'f000}), add(std::uint64_t{0x2b});
  add(fault_address), add(std::uint64_t{0x10'1236}), add(std::uint32_t{3}), add(std::uint8_t{0});
  bytes.insert(bytes.end(), detail.begin(), detail.end());
  return bytes;
}

void exit_corpus(const fs::path& dir) {
  const auto layout = compute_layout(SandboxConfig{}, 4 * kPageSize, kPageSize);
  if (!layout) std::exit(1);
  write_file(dir / "out_return", exit_input(0, MOTE_PORT_RETURN, 0, 0, 0, ""));
  write_file(dir / "out_host_call", exit_input(0, MOTE_PORT_HOST_CALL, 0, 0, 0, ""));
  write_file(dir / "out_bad_port", exit_input(0, 0x3f8, 0, 0, 0, ""));
  write_file(dir / "in_port", exit_input(1, 0x60, 13, 0, 0, ""));
  write_file(dir / "halt", exit_input(2, 0, 6, 0, 0, ""));
  write_file(dir / "mmio", exit_input(4, 0, 0, 0, 0, ""));
  write_file(dir / "failed", exit_input(6, 0, 8, 0, 0, "KVM_EXIT_INTERNAL_ERROR suberror 1"));
  write_file(dir / "page_fault_stack_guard",
             exit_input(5, 0, 14, 6, raw(layout->stack_guard.base) + 8, ""));
  write_file(dir / "page_fault_null", exit_input(3, 0, 14, 4, 0, ""));
  write_file(dir / "page_fault_image_write",
             exit_input(0, MOTE_PORT_EXCEPTION, 14, 7, raw(layout->image.base) + 0x10, ""));
  write_file(dir / "syscall_trap",
             exit_input(0, MOTE_PORT_EXCEPTION, 14, 0x14, x86_64::kSyscallTrap, "", x86_64::kSyscallTrap));
}

}  // namespace
}  // namespace mote::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  mote::fuzz::wire_corpus(root / "wire_fuzz");
  mote::fuzz::elf_corpus(root / "elf_fuzz");
  mote::fuzz::exit_corpus(root / "exit_fuzz");
  mote::fuzz::metadata_corpus(root / "snapshot_metadata_fuzz");
  return 0;
}
