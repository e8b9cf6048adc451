// The `mote` command: run a guest function from the shell, inspect a guest's exports, and save,
// inspect and run from snapshot files.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arguments.hpp"
#include "mote/abi.h"
#include "mote/mote.hpp"

#ifndef MOTE_VERSION
#error "MOTE_VERSION must be defined by the build (cli/CMakeLists.txt)"
#endif

namespace {

using namespace mote;

// Exit statuses (also listed in the help).
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the sandbox or snapshot could not be made, or the call failed
constexpr int kExitUsage = 2;   // bad command line: arity, unparsable argument, unknown function

// ---- host functions -------------------------------------------------------------------------

// The host functions every guest run by the CLI may call, with the help line for each.
struct HostFunctionDoc {
  std::string_view name;
  std::string_view description;
};
constexpr HostFunctionDoc kHostFunctionDocs[] = {
    {"host_timestamp", "nanoseconds since the Unix epoch"},
    {"host_log_line", "writes the line and a newline to stderr"},
    {"host_print", "writes the text to stdout as is; returns the bytes written"},
};

HostFunctions cli_host_functions() {
  HostFunctions h;
  h.add("host_timestamp", []() -> std::uint64_t {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
  });
  h.add("host_log_line", [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
  });
  h.add("host_print", [](std::string_view text) -> std::int32_t {
    const std::size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
    return static_cast<std::int32_t>(
        std::min<std::size_t>(written, std::numeric_limits<std::int32_t>::max()));
  });
  return h;
}

// ---- help -----------------------------------------------------------------------------------

void print_help() {
  const SandboxConfig defaults;
  const HostFunctions host = cli_host_functions();
  std::string host_lines;
  for (const HostFunctionDoc& doc : kHostFunctionDocs) {
    const HostFunctions::Entry* entry = host.find(doc.name);
    host_lines += fmt::format("  {:<32} {}\n", entry ? entry->signature.to_string() : "?",
                              doc.description);
  }
  fmt::print(
      "mote {version} - run untrusted guest functions in KVM micro-VMs\n"
      "\n"
      "Usage:\n"
      "  mote [OPTIONS] run GUEST FUNCTION [ARGS...]  call FUNCTION of the guest binary GUEST\n"
      "  mote run --snapshot FILE FUNCTION [ARGS...]  call FUNCTION in a sandbox made from the\n"
      "                                               snapshot FILE (no guest init if it was\n"
      "                                               taken after init)\n"
      "  mote [OPTIONS] inspect GUEST                 print GUEST's ABI version and functions\n"
      "  mote [OPTIONS] snapshot save GUEST OUT [--call FUNCTION [ARGS...]]...\n"
      "                                               initialise GUEST, make each call in order\n"
      "                                               (printing its result), then save a\n"
      "                                               snapshot to the file OUT; prints its digest\n"
      "  mote snapshot inspect FILE                   validate the snapshot FILE and print its\n"
      "                                               versions, digests, sizes and functions\n"
      "  mote help | --help | -h                      print this help\n"
      "  mote --version                               print the version\n"
      "\n"
      "The ARGS of `run` are read by FUNCTION's declared parameter types:\n"
      "  i32 u32 i64 u64  decimal or 0x-hex, range-checked: 42, -7, 0xff\n"
      "  f32 f64          1.5, -2e10, nan, inf, -inf, -0\n"
      "  bool             true, false, 1, 0\n"
      "  string           the text as given\n"
      "  bytes            0x and hex digit pairs (0x0a0b; 0x alone is empty), or @FILE for the\n"
      "                   contents of FILE\n"
      "The result goes to stdout: a string as is, bytes as 0x-hex, numbers in decimal, nothing\n"
      "for void. Errors go to stderr. The ARGS of each --call of `snapshot save` are read the\n"
      "same way; they end at the next --call (so no argument can be the text --call).\n"
      "\n"
      "A snapshot file holds the guest's memory (sparse: only pages in use take disk space),\n"
      "CPU state and functions, all checked by SHA-256 when loaded; a damaged or foreign file\n"
      "is refused (\"invalid snapshot\"). It fixes the memory sizes and the log level: the\n"
      "options below do not combine with --snapshot or `snapshot inspect`.\n"
      "\n"
      "Options (before GUEST; `--` ends them):\n"
      "  --heap SIZE         guest heap (default {heap})\n"
      "  --stack SIZE        guest stack (default {stack})\n"
      "  --input SIZE        call buffer: function and arguments (default {input})\n"
      "  --output SIZE       result, host-call and log buffer (default {output})\n"
      "  --max-memory SIZE   bound on all guest memory (default: none beyond 1G)\n"
      "  --log-level LEVEL   guest log records from LEVEL up go to stderr: trace, debug, info,\n"
      "                      warn, error, off (default {level})\n"
      "  SIZE is in bytes, or with a K, M or G suffix (64K, 4M); a multiple of 4K.\n"
      "  --snapshot FILE     (run only) make the sandbox from the snapshot file FILE\n"
      "\n"
      "Host functions the guest may call:\n"
      "{host}"
      "\n"
      "Exit status: {ok} success; {failed} the sandbox could not be created, a call failed, or a\n"
      "snapshot could not be saved or loaded (invalid snapshot); {usage} usage error (bad option\n"
      "or argument, wrong argument count, unknown function, sizes that do not fit the guest).\n",
      fmt::arg("version", MOTE_VERSION), fmt::arg("heap", cli::format_size(defaults.heap_size)),
      fmt::arg("stack", cli::format_size(defaults.stack_size)),
      fmt::arg("input", cli::format_size(defaults.input_size)),
      fmt::arg("output", cli::format_size(defaults.output_size)),
      fmt::arg("level", to_string(defaults.log_level)), fmt::arg("host", host_lines),
      fmt::arg("ok", kExitOk), fmt::arg("failed", kExitFailed), fmt::arg("usage", kExitUsage));
}

int usage_error(std::string_view message) {
  fmt::print(stderr, "mote: {}\nRun 'mote --help' for usage.\n", message);
  return kExitUsage;
}

// Prints a library error and its guest detail to stderr; returns the "failed" exit status.
int report_failure(const Error& error) {
  fmt::print(stderr, "error: {}\n", error.to_string());
  if (error.kind() == ErrorKind::GuestError || error.kind() == ErrorKind::GuestAborted) {
    fmt::print(stderr, "  guest code: {}\n", error.guest_code());
  }
  if (const auto& fault = error.fault()) {
    fmt::print(stderr, "  fault: vector {} (#{}), error code {:#x}, rip {:#x}", fault->vector,
               exception_name(fault->vector), fault->error_code, fault->rip);
    if (fault->vector == 14) fmt::print(stderr, ", address {:#x}", fault->address);
    fmt::print(stderr, "\n");
  }
  return kExitFailed;
}

// ---- command line ---------------------------------------------------------------------------

struct CommandLine {
  SandboxConfig config;
  std::optional<std::string_view> config_option;  // the first option that set `config`
  std::optional<std::string_view> snapshot;        // run --snapshot FILE
  std::string command;
  std::string subcommand;                  // of `snapshot`: save or inspect
  std::vector<std::string_view> operands;  // after the command: GUEST, then FUNCTION and ARGS
};

// Applies the option at argv[i] (advancing i past its value). Returns an error message, or
// nothing on success.
std::optional<std::string> apply_option(std::span<char*> argv, std::size_t& i, CommandLine& cl) {
  SandboxConfig& config = cl.config;
  std::string_view arg = argv[i];
  std::string_view name = arg;
  std::optional<std::string_view> value;
  if (const auto eq = arg.find('='); eq != std::string_view::npos) {
    name = arg.substr(0, eq);
    value = arg.substr(eq + 1);
  }
  const auto take_value = [&]() -> std::optional<std::string_view> {
    if (value) return value;
    if (i + 1 >= argv.size()) return std::nullopt;
    return std::string_view(argv[++i]);
  };
  if (name == "--snapshot") {
    const auto file = take_value();
    if (!file) return fmt::format("{} needs a FILE", name);
    cl.snapshot = *file;
    return std::nullopt;
  }
  cl.config_option = cl.config_option.value_or(name);
  std::uint64_t* size_field = nullptr;
  if (name == "--heap") size_field = &config.heap_size;
  else if (name == "--stack") size_field = &config.stack_size;
  else if (name == "--input") size_field = &config.input_size;
  else if (name == "--output") size_field = &config.output_size;
  else if (name == "--max-memory") size_field = &config.max_memory_size;
  if (size_field != nullptr) {
    const auto text = take_value();
    if (!text) return fmt::format("{} needs a SIZE", name);
    const auto size = cli::parse_size(*text);
    if (!size) return fmt::format("{}: {}", name, size.error());
    *size_field = *size;
    return std::nullopt;
  }
  if (name == "--log-level") {
    const auto text = take_value();
    if (!text) return fmt::format("{} needs a LEVEL", name);
    const auto level = cli::parse_log_level(*text);
    if (!level) return fmt::format("{}: {}", name, level.error());
    config.log_level = *level;
    return std::nullopt;
  }
  return fmt::format("unknown option '{}'", arg);
}

// ---- commands -------------------------------------------------------------------------------

Result<Sandbox> open_sandbox(std::string_view guest, const SandboxConfig& config) {
  return Sandbox::create_from_file(std::string(guest), cli_host_functions(), config);
}

// A sandbox that could not be created: options that do not fit this guest (e.g. a --max-memory
// below what it needs) are a usage error; anything else is a failure.
int report_creation_failure(const Error& error) {
  if (error.kind() == ErrorKind::InvalidConfig) return usage_error(error.message());
  return report_failure(error);
}

int run_inspect(const CommandLine& cl) {
  if (cl.operands.size() != 1) return usage_error("usage: mote [OPTIONS] inspect GUEST");
  auto sandbox = open_sandbox(cl.operands[0], cl.config);
  if (!sandbox) return report_creation_failure(sandbox.error());
  fmt::print("ABI version: {}\n", sandbox->guest_abi_version());
  fmt::print("Functions ({}):\n", sandbox->functions().size());
  for (const FunctionSignature& f : sandbox->functions()) fmt::print("  {}\n", f.to_string());
  return kExitOk;
}

// One call, checked against the guest's signature and parsed, ready to make.
struct PreparedCall {
  const FunctionSignature* signature = nullptr;
  std::vector<Value> args;
};

// Finds FUNCTION and reads its ARGS by the declared types. The error is a usage message.
std::expected<PreparedCall, std::string> prepare_call(const Sandbox& sandbox,
                                                      std::string_view function,
                                                      std::span<const std::string_view> texts) {
  const FunctionSignature* signature = sandbox.find_function(function);
  if (signature == nullptr) {
    std::string exported;
    for (const FunctionSignature& f : sandbox.functions()) exported += "\n  " + f.to_string();
    return std::unexpected(fmt::format("the guest has no function '{}'; it exports:{}", function,
                                       exported.empty() ? "\n  (nothing)" : exported));
  }
  if (texts.size() != signature->params.size()) {
    return std::unexpected(fmt::format("{} takes {} argument{}, got {}", signature->to_string(),
                                       signature->params.size(),
                                       signature->params.size() == 1 ? "" : "s", texts.size()));
  }
  PreparedCall call{signature, {}};
  call.args.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto value = cli::parse_argument(texts[i], signature->params[i]);
    if (!value) {
      return std::unexpected(
          fmt::format("argument {} of {}: {}", i + 1, signature->to_string(), value.error()));
    }
    call.args.push_back(std::move(value).value());
  }
  return call;
}

// Makes the call and prints its result (nothing for void). Returns the exit status.
int make_call(Sandbox& sandbox, const PreparedCall& call) {
  auto result = sandbox.call_dynamic(call.signature->name, call.args, call.signature->result);
  if (!result) return report_failure(result.error());
  if (call.signature->result != ValueType::Void) {
    const std::string text = cli::format_result(*result);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  }
  return kExitOk;
}

// Options that set the sandbox configuration, where the snapshot decides it instead.
std::optional<int> refuse_config_options(const CommandLine& cl, std::string_view where) {
  if (!cl.config_option) return std::nullopt;
  return usage_error(fmt::format("{} does not combine with {}: the snapshot fixes the memory "
                                 "sizes and the log level",
                                 *cl.config_option, where));
}

Result<Sandbox> open_snapshot_sandbox(std::string_view file, const SandboxConfig& config) {
  SnapshotPtr snapshot = MOTE_TRY(Snapshot::load(std::string(file)));
  return Sandbox::from_snapshot(std::move(snapshot), cli_host_functions(), config);
}

int run_call(const CommandLine& cl) {
  // With --snapshot the operands are FUNCTION [ARGS...]; otherwise GUEST FUNCTION [ARGS...].
  const std::size_t first = cl.snapshot ? 0 : 1;
  if (cl.operands.size() < first + 1) {
    return usage_error(cl.snapshot ? "usage: mote run --snapshot FILE FUNCTION [ARGS...]"
                                   : "usage: mote [OPTIONS] run GUEST FUNCTION [ARGS...]");
  }
  if (cl.snapshot) {
    if (auto refused = refuse_config_options(cl, "--snapshot")) return *refused;
  }
  const std::string_view function = cl.operands[first];
  const std::span<const std::string_view> texts = std::span(cl.operands).subspan(first + 1);

  auto sandbox = cl.snapshot ? open_snapshot_sandbox(*cl.snapshot, cl.config)
                             : open_sandbox(cl.operands[0], cl.config);
  if (!sandbox) return report_creation_failure(sandbox.error());

  auto call = prepare_call(*sandbox, function, texts);
  if (!call) return usage_error(call.error());
  return make_call(*sandbox, *call);
}

// mote snapshot save GUEST OUT [--call FUNCTION [ARGS...]]...
int run_snapshot_save(const CommandLine& cl) {
  constexpr std::string_view kUsage =
      "usage: mote [OPTIONS] snapshot save GUEST OUT [--call FUNCTION [ARGS...]]...";
  if (cl.operands.size() < 2) return usage_error(kUsage);
  const std::string_view out = cl.operands[1];
  // Split the rest into calls: each starts at a --call and ends before the next.
  struct CallText {
    std::string_view function;
    std::span<const std::string_view> args;
  };
  std::vector<CallText> texts;
  const std::span<const std::string_view> rest = std::span(cl.operands).subspan(2);
  for (std::size_t i = 0; i < rest.size();) {
    if (rest[i] != "--call") {
      return usage_error(fmt::format("expected --call before '{}'\n{}", rest[i], kUsage));
    }
    std::size_t end = i + 1;
    while (end < rest.size() && rest[end] != "--call") ++end;
    if (end == i + 1) return usage_error("--call needs a FUNCTION");
    texts.push_back({rest[i + 1], rest.subspan(i + 2, end - i - 2)});
    i = end;
  }

  auto sandbox = open_sandbox(cl.operands[0], cl.config);
  if (!sandbox) return report_creation_failure(sandbox.error());
  // Every call is checked before the first is made.
  std::vector<PreparedCall> calls;
  for (const CallText& text : texts) {
    auto call = prepare_call(*sandbox, text.function, text.args);
    if (!call) return usage_error(call.error());
    calls.push_back(std::move(call).value());
  }
  for (const PreparedCall& call : calls) {
    if (const int status = make_call(*sandbox, call); status != kExitOk) return status;
  }
  auto snapshot = sandbox->snapshot();
  if (!snapshot) return report_failure(snapshot.error());
  if (auto saved = (*snapshot)->save(std::string(out)); !saved) {
    return report_failure(saved.error());
  }
  fmt::print("digest: {}\n", to_hex((*snapshot)->digest()));
  return kExitOk;
}

// The format version and architecture fields of a snapshot file's header (docs/snapshot-format.md:
// the magic and the version keep their offsets in every format version).
struct FileFormat {
  std::uint32_t version = 0;
  std::uint32_t arch = 0;
};
std::optional<FileFormat> read_file_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[16] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return std::nullopt;
  const auto le32 = [&](std::size_t at) {
    return std::uint32_t{header[at]} | std::uint32_t{header[at + 1]} << 8 |
           std::uint32_t{header[at + 2]} << 16 | std::uint32_t{header[at + 3]} << 24;
  };
  return FileFormat{le32(8), le32(12)};
}

// mote snapshot inspect FILE
int run_snapshot_inspect(const CommandLine& cl) {
  if (cl.operands.size() != 1) return usage_error("usage: mote snapshot inspect FILE");
  if (auto refused = refuse_config_options(cl, "snapshot inspect")) return *refused;
  const std::string path(cl.operands[0]);
  auto loaded = Snapshot::load(path);  // validates every byte the snapshot uses
  if (!loaded) return report_failure(loaded.error());
  const Snapshot& snapshot = **loaded;
  struct stat st {};
  const auto format = read_file_format(path);
  if (::stat(path.c_str(), &st) != 0 || !format) {
    return report_failure(Error(ErrorKind::Io, fmt::format("{}: cannot read it again", path)));
  }
  const std::uint64_t pages = snapshot.memory_size() / 4096;
  fmt::print("Format version: {}\n", format->version);
  fmt::print("Architecture: {}\n", format->arch == 62 ? "x86-64" : fmt::format("{}", format->arch));
  fmt::print("ABI version: {}\n", snapshot.abi_version());
  fmt::print("Config identity: {}\n", to_hex(snapshot.config_identity()));
  fmt::print("Content digest: {}\n", to_hex(snapshot.digest()));
  fmt::print("Next action: {}\n", snapshot.next_action() == NextAction::Call
                                       ? "call (initialised: no guest init needed)"
                                       : "initialise (taken before the guest's init)");
  fmt::print("Memory size: {} ({} pages)\n", cli::format_size(snapshot.memory_size()), pages);
  fmt::print("Stored pages: {} of {} ({})\n", snapshot.stored_pages(), pages,
             cli::format_size(snapshot.stored_pages() * 4096));
  fmt::print("File size: {} bytes logical, {} bytes on disk\n", st.st_size,
             static_cast<std::uint64_t>(st.st_blocks) * 512);
  fmt::print("Functions ({}):\n", snapshot.functions().size());
  for (const FunctionSignature& f : snapshot.functions()) fmt::print("  {}\n", f.to_string());
  return kExitOk;
}

int run_snapshot(const CommandLine& cl) {
  if (cl.subcommand == "save") return run_snapshot_save(cl);
  if (cl.subcommand == "inspect") return run_snapshot_inspect(cl);
  if (cl.subcommand.empty()) return usage_error("snapshot needs a subcommand: save or inspect");
  return usage_error(
      fmt::format("unknown snapshot subcommand '{}' (save or inspect)", cl.subcommand));
}

int run(std::span<char*> argv) {
  CommandLine cl;
  bool options_done = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    // Options are read until GUEST; everything after it is an operand (ARGS may start with '-').
    const bool before_guest = cl.operands.empty();
    if (before_guest && !options_done && arg.starts_with("-") && arg != "-") {
      if (arg == "--") {
        options_done = true;
      } else if (arg == "--help" || arg == "-h") {
        print_help();
        return kExitOk;
      } else if (arg == "--version") {
        fmt::print("mote {} (guest ABI {})\n", MOTE_VERSION, MOTE_ABI_VERSION);
        return kExitOk;
      } else if (auto message = apply_option(argv, i, cl)) {
        return usage_error(*message);
      }
    } else if (cl.command.empty()) {
      cl.command = arg;
    } else if (cl.command == "snapshot" && cl.subcommand.empty()) {
      cl.subcommand = arg;
    } else {
      cl.operands.push_back(arg);
    }
  }

  if (cl.command.empty()) return usage_error("no command given");
  if (cl.command == "help") {
    print_help();
    return kExitOk;
  }
  if (cl.command != "run" && cl.command != "inspect" && cl.command != "snapshot") {
    return usage_error(fmt::format("unknown command '{}'", cl.command));
  }
  if (cl.snapshot && cl.command != "run") return usage_error("--snapshot is an option of run");
  if (auto valid = cl.config.validate(); !valid) {
    return usage_error(valid.error().message());
  }
  if (cl.command == "snapshot") return run_snapshot(cl);
  return cl.command == "run" ? run_call(cl) : run_inspect(cl);
}

}  // namespace

int main(int argc, char** argv) {
  const int status = run(std::span<char*>(argv, static_cast<std::size_t>(argc)));
  std::fflush(stdout);
  return status;
}
