// The `mote` command: run a guest function from the shell, or inspect a guest's exports.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
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
constexpr int kExitFailed = 1;  // the sandbox could not be created, or the call failed
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
      "  mote [OPTIONS] inspect GUEST                 print GUEST's ABI version and functions\n"
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
      "for void. Errors go to stderr.\n"
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
      "\n"
      "Host functions the guest may call:\n"
      "{host}"
      "\n"
      "Exit status: {ok} success; {failed} the sandbox could not be created or the call failed;\n"
      "{usage} usage error (bad option or argument, wrong argument count, unknown function, sizes\n"
      "that do not fit the guest).\n",
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
  std::string command;
  std::vector<std::string_view> operands;  // after the command: GUEST, then FUNCTION and ARGS
};

// Applies the option at argv[i] (advancing i past its value). Returns an error message, or
// nothing on success.
std::optional<std::string> apply_option(std::span<char*> argv, std::size_t& i, SandboxConfig& config) {
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

int run_call(const CommandLine& cl) {
  if (cl.operands.size() < 2) return usage_error("usage: mote [OPTIONS] run GUEST FUNCTION [ARGS...]");
  const std::string_view function = cl.operands[1];
  const std::span<const std::string_view> texts = std::span(cl.operands).subspan(2);

  auto sandbox = open_sandbox(cl.operands[0], cl.config);
  if (!sandbox) return report_creation_failure(sandbox.error());

  const FunctionSignature* signature = sandbox->find_function(function);
  if (signature == nullptr) {
    std::string exported;
    for (const FunctionSignature& f : sandbox->functions()) exported += "\n  " + f.to_string();
    return usage_error(fmt::format("the guest has no function '{}'; it exports:{}", function,
                                   exported.empty() ? "\n  (nothing)" : exported));
  }
  if (texts.size() != signature->params.size()) {
    return usage_error(fmt::format("{} takes {} argument{}, got {}", signature->to_string(),
                                   signature->params.size(),
                                   signature->params.size() == 1 ? "" : "s", texts.size()));
  }
  std::vector<Value> args;
  args.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto value = cli::parse_argument(texts[i], signature->params[i]);
    if (!value) {
      return usage_error(
          fmt::format("argument {} of {}: {}", i + 1, signature->to_string(), value.error()));
    }
    args.push_back(std::move(value).value());
  }

  auto result = sandbox->call_dynamic(function, args, signature->result);
  if (!result) return report_failure(result.error());
  if (signature->result != ValueType::Void) {
    const std::string text = cli::format_result(*result);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  }
  return kExitOk;
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
      } else if (auto message = apply_option(argv, i, cl.config)) {
        return usage_error(*message);
      }
    } else if (cl.command.empty()) {
      cl.command = arg;
    } else {
      cl.operands.push_back(arg);
    }
  }

  if (cl.command.empty()) return usage_error("no command given");
  if (cl.command == "help") {
    print_help();
    return kExitOk;
  }
  if (cl.command != "run" && cl.command != "inspect") {
    return usage_error(fmt::format("unknown command '{}'", cl.command));
  }
  if (auto valid = cl.config.validate(); !valid) {
    return usage_error(valid.error().message());
  }
  return cl.command == "run" ? run_call(cl) : run_inspect(cl);
}

}  // namespace

int main(int argc, char** argv) {
  const int status = run(std::span<char*>(argv, static_cast<std::size_t>(argc)));
  std::fflush(stdout);
  return status;
}
