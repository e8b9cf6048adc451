// End to end: the built `mote` binary against test_guest: output, exit statuses and messages.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

namespace {

struct Outcome {
  int status = -1;  // exit status, or -1 when the process did not exit normally
  std::string out;
  std::string err;
};

// Quotes `arg` for /bin/sh.
std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path temp_file(const std::string& stem) {
  return std::filesystem::temp_directory_path() /
         (stem + "." + std::to_string(::getpid()) + "." +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

// Runs `mote ARGS...`, capturing stdout (through the pipe) and stderr (through a file).
Outcome mote(std::initializer_list<std::string> args) {
  const std::filesystem::path err_path = temp_file("mote_cli_test_stderr");
  std::string command = shell_quote(MOTE_CLI_PATH);
  for (const std::string& a : args) command += " " + shell_quote(a);
  command += " 2>" + shell_quote(err_path.string());
  Outcome o;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed for " << command;
    return o;
  }
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) o.out.append(buffer, n);
  const int raw = ::pclose(pipe);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  o.err = read_all(err_path);
  std::filesystem::remove(err_path);
  return o;
}

std::string guest(const std::string& name) {
  return (std::filesystem::path(MOTE_GUEST_DIR) / name).string();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const std::string kTestGuest = guest("test_guest");

TEST(Cli, RunPrintsTheResult) {
  const Outcome o = mote({"run", kTestGuest, "add", "2", "3"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "5\n");
  EXPECT_EQ(o.err, "");
}

TEST(Cli, NegativeAndHexArgumentsAreNotOptions) {
  const Outcome o = mote({"run", kTestGuest, "add", "-10", "0x10"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "6\n");
}

TEST(Cli, OptionsComeBeforeTheGuest) {
  const Outcome o = mote({"--heap", "8M", "run", "--stack=128K", "--log-level", "warn", kTestGuest,
                          "echo_i64", "-9223372036854775808"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "-9223372036854775808\n");
}

TEST(Cli, EveryResultTypeIsPrinted) {
  struct Case {
    std::string function, argument, printed;
  };
  const Case cases[] = {
      {"echo_u32", "4294967295", "4294967295\n"},
      {"echo_u64", "0xffffffffffffffff", "18446744073709551615\n"},
      {"echo_f32", "-0", "-0\n"},
      {"echo_f64", "-inf", "-inf\n"},
      {"echo_f64", "nan", "nan\n"},
      {"echo_f64", "1.25", "1.25\n"},
      {"echo_bool", "1", "true\n"},
      {"echo_string", "hello \"world\"", "hello \"world\"\n"},  // raw, not quoted
      {"echo_string", "", "\n"},
      {"echo_bytes", "0x00ff10", "0x00ff10\n"},
      {"echo_bytes", "0x", "0x\n"},
  };
  for (const Case& c : cases) {
    const Outcome o = mote({"run", kTestGuest, c.function, c.argument});
    EXPECT_EQ(o.status, 0) << c.function << " " << c.argument << ": " << o.err;
    EXPECT_EQ(o.out, c.printed) << c.function << " " << c.argument;
  }
}

TEST(Cli, VoidPrintsNothing) {
  const Outcome o = mote({"run", kTestGuest, "noop"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST(Cli, BytesFromAFile) {
  const std::filesystem::path path = temp_file("mote_cli_test_bytes");
  {
    std::ofstream f(path, std::ios::binary);
    f.write("\x01\x02\xff", 3);
  }
  const Outcome o = mote({"run", kTestGuest, "sum_bytes", "@" + path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "258\n");
}

TEST(Cli, InspectListsTheAbiVersionAndEverySignature) {
  const Outcome o = mote({"inspect", kTestGuest});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "ABI version: 1\n")) << o.out;
  EXPECT_TRUE(contains(o.out, "  add(i32, i32) -> i32\n")) << o.out;
  EXPECT_TRUE(contains(o.out, "  noop() -> void\n")) << o.out;
  EXPECT_TRUE(contains(o.out, "  fail_with(u32, string) -> i32\n")) << o.out;
}

TEST(Cli, UnparsableArgumentIsAUsageErrorNamingTheSignature) {
  const Outcome o = mote({"run", kTestGuest, "add", "2", "three"});
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_TRUE(contains(o.err, "argument 2 of add(i32, i32) -> i32")) << o.err;
  EXPECT_TRUE(contains(o.err, "'three'")) << o.err;
}

TEST(Cli, OutOfRangeArgumentIsAUsageError) {
  const Outcome o = mote({"run", kTestGuest, "add", "2147483648", "0"});
  EXPECT_EQ(o.status, 2);
  EXPECT_TRUE(contains(o.err, "out of range")) << o.err;
}

TEST(Cli, WrongArityIsAUsageErrorNamingTheSignature) {
  const Outcome o = mote({"run", kTestGuest, "add", "1"});
  EXPECT_EQ(o.status, 2);
  EXPECT_TRUE(contains(o.err, "add(i32, i32) -> i32 takes 2 arguments, got 1")) << o.err;
}

TEST(Cli, UnknownFunctionIsAUsageErrorListingTheExports) {
  const Outcome o = mote({"run", kTestGuest, "no_such_function"});
  EXPECT_EQ(o.status, 2);
  EXPECT_TRUE(contains(o.err, "no_such_function")) << o.err;
  EXPECT_TRUE(contains(o.err, "add(i32, i32) -> i32")) << o.err;
}

TEST(Cli, GuestErrorExitsOneWithTheCodeAndMessage) {
  const Outcome o = mote({"run", kTestGuest, "fail_with", "1234", "bad input"});
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_TRUE(contains(o.err, "error: guest error: bad input")) << o.err;
  EXPECT_TRUE(contains(o.err, "guest code: 1234")) << o.err;
}

TEST(Cli, GuestFaultExitsOneWithTheFaultDetail) {
  const Outcome o = mote({"run", kTestGuest, "trigger_page_fault", "0x700000000000"});
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "error: guest fault")) << o.err;
  EXPECT_TRUE(contains(o.err, "vector 14 (#PF)")) << o.err;
  EXPECT_TRUE(contains(o.err, "address 0x700000000000")) << o.err;
}

TEST(Cli, GuestAbortExitsOneWithTheCode) {
  const Outcome o = mote({"run", kTestGuest, "abort_with", "77", "cannot continue"});
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "guest aborted")) << o.err;
  EXPECT_TRUE(contains(o.err, "guest code: 77")) << o.err;
}

TEST(Cli, GuestLogRecordsFollowTheLogLevel) {
  const Outcome shown = mote({"run", kTestGuest, "log_message", "3", "careful"});
  EXPECT_EQ(shown.status, 0) << shown.err;
  EXPECT_TRUE(contains(shown.err, "careful")) << shown.err;
  const Outcome hidden =
      mote({"--log-level", "error", "run", kTestGuest, "log_message", "3", "careful"});
  EXPECT_EQ(hidden.status, 0) << hidden.err;
  EXPECT_FALSE(contains(hidden.err, "careful")) << hidden.err;
}

TEST(Cli, TheCliRegistersItsHostFunctions) {
  // call_host_by_name calls NAME() expecting an i32: host_timestamp exists (but returns a u64, so
  // the guest reports an argument mismatch, code 2); an unregistered name is code 4.
  const Outcome known = mote({"run", kTestGuest, "call_host_by_name", "host_timestamp"});
  EXPECT_EQ(known.status, 1);
  EXPECT_TRUE(contains(known.err, "guest code: 2")) << known.err;
  const Outcome unknown = mote({"run", kTestGuest, "call_host_by_name", "host_add"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_TRUE(contains(unknown.err, "guest code: 4")) << unknown.err;
}

TEST(Cli, MissingGuestFileExitsOne) {
  const Outcome o = mote({"run", guest("no_such_guest"), "add", "1", "2"});
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "error: ")) << o.err;
}

TEST(Cli, BadOptionsAndCommandsAreUsageErrors) {
  EXPECT_EQ(mote({}).status, 2);
  EXPECT_EQ(mote({"frobnicate"}).status, 2);
  EXPECT_EQ(mote({"--bogus", "run", kTestGuest, "noop"}).status, 2);
  EXPECT_EQ(mote({"--heap", "lots", "run", kTestGuest, "noop"}).status, 2);
  const Outcome bad_size = mote({"--heap", "1000", "run", kTestGuest, "noop"});
  EXPECT_EQ(bad_size.status, 2);
  EXPECT_TRUE(contains(bad_size.err, "heap_size")) << bad_size.err;
  const Outcome too_small = mote({"--max-memory", "4K", "run", kTestGuest, "noop"});
  EXPECT_EQ(too_small.status, 2);
  EXPECT_TRUE(contains(too_small.err, "guest memory")) << too_small.err;
  EXPECT_EQ(mote({"run", kTestGuest}).status, 2);
  EXPECT_EQ(mote({"inspect"}).status, 2);
}

TEST(Cli, HelpAndVersion) {
  for (const char* spelling : {"--help", "-h", "help"}) {
    const Outcome o = mote({spelling});
    EXPECT_EQ(o.status, 0) << spelling;
    EXPECT_TRUE(contains(o.out, "mote [OPTIONS] run GUEST FUNCTION [ARGS...]")) << o.out;
    EXPECT_TRUE(contains(o.out, "host_timestamp() -> u64")) << o.out;
    EXPECT_TRUE(contains(o.out, "host_log_line(string) -> void")) << o.out;
    EXPECT_TRUE(contains(o.out, "host_print(string) -> i32")) << o.out;
    EXPECT_TRUE(contains(o.out, "mote run --snapshot FILE FUNCTION [ARGS...]")) << o.out;
    EXPECT_TRUE(contains(o.out, "snapshot save GUEST OUT [--call FUNCTION [ARGS...]]...")) << o.out;
    EXPECT_TRUE(contains(o.out, "mote snapshot inspect FILE")) << o.out;
  }
  const Outcome v = mote({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(contains(v.out, "mote 0.1.0")) << v.out;
}

// ---- snapshot files ---------------------------------------------------------------------------

// Saves a snapshot of test_guest after two counter_increment calls; returns the digest printed.
std::string save_counted_snapshot(const std::filesystem::path& file) {
  const Outcome o = mote({"snapshot", "save", kTestGuest, file.string(), "--call",
                          "counter_increment", "--call", "counter_increment"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(o.out.starts_with("1\n2\ndigest: ")) << o.out;
  EXPECT_EQ(o.out.size(), std::string("1\n2\ndigest: \n").size() + 64) << o.out;
  return o.out.size() > 12 ? o.out.substr(12, 64) : "";
}

TEST(Cli, SnapshotSaveThenRunFromItContinuesTheCount) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  save_counted_snapshot(file);
  const Outcome first = mote({"run", "--snapshot", file.string(), "counter_increment"});
  EXPECT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out, "3\n");
  // Every run starts from the file again; other functions work too.
  EXPECT_EQ(mote({"run", "--snapshot=" + file.string(), "counter_increment"}).out, "3\n");
  EXPECT_EQ(mote({"run", "--snapshot", file.string(), "add", "-10", "0x10"}).out, "6\n");
  std::filesystem::remove(file);
}

TEST(Cli, SnapshotSaveWithoutCallsAndCallsWithArguments) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  const Outcome plain = mote({"snapshot", "save", kTestGuest, file.string()});
  EXPECT_EQ(plain.status, 0) << plain.err;
  EXPECT_TRUE(plain.out.starts_with("digest: ")) << plain.out;
  EXPECT_EQ(mote({"run", "--snapshot", file.string(), "counter_increment"}).out, "1\n");
  const Outcome with_args = mote({"--heap", "8M", "snapshot", "save", kTestGuest, file.string(),
                                  "--call", "echo_string", "-x", "--call", "add", "-1", "2"});
  EXPECT_EQ(with_args.status, 0) << with_args.err;
  EXPECT_TRUE(with_args.out.starts_with("-x\n1\ndigest: ")) << with_args.out;
  std::filesystem::remove(file);
}

TEST(Cli, SnapshotInspectShowsVersionsDigestsSizesAndFunctions) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  const std::string digest = save_counted_snapshot(file);
  const Outcome o = mote({"snapshot", "inspect", file.string()});
  EXPECT_EQ(o.status, 0) << o.err;
  for (const std::string& expected : std::initializer_list<std::string>{
           "Format version: 1\n", "Architecture: x86-64\n", "ABI version: 1\n", "Config identity: ",
        "Content digest: " + digest + "\n", "Next action: call", "Memory size: ", "Stored pages: ",
        "bytes logical, ", "Functions (", "  counter_increment() -> i64\n",
        "  add(i32, i32) -> i32\n"}) {
    EXPECT_TRUE(contains(o.out, expected)) << expected << " not in:\n" << o.out;
  }
  std::filesystem::remove(file);
}

TEST(Cli, CorruptedSnapshotFileExitsOneWithInvalidSnapshot) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  save_counted_snapshot(file);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 30);  // inside the metadata
    f.put('\x5a');
  }
  const Outcome run = mote({"run", "--snapshot", file.string(), "counter_increment"});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(contains(run.err, "error: invalid snapshot")) << run.err;
  EXPECT_TRUE(contains(run.err, "metadata")) << run.err;
  const Outcome inspect = mote({"snapshot", "inspect", file.string()});
  EXPECT_EQ(inspect.status, 1);
  EXPECT_TRUE(contains(inspect.err, "error: invalid snapshot")) << inspect.err;
  const Outcome not_a_snapshot = mote({"snapshot", "inspect", kTestGuest});
  EXPECT_EQ(not_a_snapshot.status, 1);
  EXPECT_TRUE(contains(not_a_snapshot.err, "invalid snapshot")) << not_a_snapshot.err;
  std::filesystem::remove(file);
}

TEST(Cli, SnapshotUsageErrors) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  EXPECT_EQ(mote({"snapshot"}).status, 2);
  EXPECT_EQ(mote({"snapshot", "frobnicate"}).status, 2);
  EXPECT_EQ(mote({"snapshot", "save", kTestGuest}).status, 2);
  EXPECT_EQ(mote({"snapshot", "inspect"}).status, 2);
  EXPECT_EQ(mote({"run", "--snapshot"}).status, 2);
  EXPECT_EQ(mote({"inspect", "--snapshot", file.string(), kTestGuest}).status, 2);
  const Outcome stray = mote({"snapshot", "save", kTestGuest, file.string(), "noop"});
  EXPECT_EQ(stray.status, 2);
  EXPECT_TRUE(contains(stray.err, "expected --call before 'noop'")) << stray.err;
  const Outcome unknown = mote({"snapshot", "save", kTestGuest, file.string(), "--call",
                                "counter_increment", "--call", "no_such_function"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.out, "") << "no call is made before all are checked";
  const Outcome arity = mote({"snapshot", "save", kTestGuest, file.string(), "--call", "add", "1"});
  EXPECT_EQ(arity.status, 2);
  EXPECT_TRUE(contains(arity.err, "add(i32, i32) -> i32 takes 2 arguments, got 1")) << arity.err;
  EXPECT_FALSE(std::filesystem::exists(file));
  save_counted_snapshot(file);
  const Outcome sizes = mote({"--heap", "8M", "run", "--snapshot", file.string(), "noop"});
  EXPECT_EQ(sizes.status, 2);
  EXPECT_TRUE(contains(sizes.err, "--heap does not combine with --snapshot")) << sizes.err;
  std::filesystem::remove(file);
}

TEST(Cli, FailedCallInSnapshotSaveSavesNothing) {
  const std::filesystem::path file = temp_file("mote_cli_test_snapshot");
  const Outcome o = mote(
      {"snapshot", "save", kTestGuest, file.string(), "--call", "fail_with", "1234", "no"});
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "guest code: 1234")) << o.err;
  EXPECT_FALSE(std::filesystem::exists(file));
}

}  // namespace
