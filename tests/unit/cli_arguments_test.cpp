// Unit tests of the CLI's pure parsing: arguments of every type, ranges, bad input, sizes, levels.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "arguments.hpp"

namespace mote::cli {
namespace {

// A reader that must not be reached (no test here touches the file system unless it says so).
const FileReader kNoFiles = [](const std::string& path) -> std::expected<Bytes, std::string> {
  ADD_FAILURE() << "unexpected file read of " << path;
  return std::unexpected<std::string>("no files in this test");
};

template <class T>
T parse_ok(std::string_view text, ValueType type) {
  auto v = parse_argument(text, type, kNoFiles);
  EXPECT_TRUE(v) << "'" << text << "' as " << to_string(type) << ": " << v.error();
  if (!v) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*v)) << "'" << text << "' gave another alternative";
  if (!std::holds_alternative<T>(*v)) return T{};
  return std::get<T>(*v);
}

std::string parse_error(std::string_view text, ValueType type,
                        const FileReader& reader = kNoFiles) {
  auto v = parse_argument(text, type, reader);
  EXPECT_FALSE(v) << "'" << text << "' as " << to_string(type) << " parsed as "
                  << (v ? format_value(*v) : "");
  return v ? std::string() : v.error();
}

// ---- integers ---------------------------------------------------------------------------------

TEST(CliArguments, I32DecimalHexAndExtremes) {
  EXPECT_EQ(parse_ok<std::int32_t>("0", ValueType::I32), 0);
  EXPECT_EQ(parse_ok<std::int32_t>("-0", ValueType::I32), 0);
  EXPECT_EQ(parse_ok<std::int32_t>("42", ValueType::I32), 42);
  EXPECT_EQ(parse_ok<std::int32_t>("-7", ValueType::I32), -7);
  EXPECT_EQ(parse_ok<std::int32_t>("007", ValueType::I32), 7);
  EXPECT_EQ(parse_ok<std::int32_t>("0x7fffffff", ValueType::I32), 2147483647);
  EXPECT_EQ(parse_ok<std::int32_t>("0XfF", ValueType::I32), 255);
  EXPECT_EQ(parse_ok<std::int32_t>("-0x10", ValueType::I32), -16);
  EXPECT_EQ(parse_ok<std::int32_t>("2147483647", ValueType::I32),
            std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(parse_ok<std::int32_t>("-2147483648", ValueType::I32),
            std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(parse_ok<std::int32_t>("-0x80000000", ValueType::I32),
            std::numeric_limits<std::int32_t>::min());
}

TEST(CliArguments, I32OutOfRangeNamesTheRange) {
  for (std::string_view text : {"2147483648", "-2147483649", "0x80000000", "0xffffffff",
                                "99999999999999999999999"}) {
    const std::string e = parse_error(text, ValueType::I32);
    EXPECT_NE(e.find("out of range"), std::string::npos) << text << ": " << e;
    EXPECT_NE(e.find("[-2147483648, 2147483647]"), std::string::npos) << e;
  }
}

TEST(CliArguments, U32) {
  EXPECT_EQ(parse_ok<std::uint32_t>("0", ValueType::U32), 0u);
  EXPECT_EQ(parse_ok<std::uint32_t>("4294967295", ValueType::U32), 0xffffffffu);
  EXPECT_EQ(parse_ok<std::uint32_t>("0xdeadBEEF", ValueType::U32), 0xdeadbeefu);
  EXPECT_NE(parse_error("4294967296", ValueType::U32).find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("0x100000000", ValueType::U32).find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("-1", ValueType::U32).find("unsigned"), std::string::npos);
  EXPECT_NE(parse_error("-0", ValueType::U32).find("unsigned"), std::string::npos);
}

TEST(CliArguments, I64Extremes) {
  EXPECT_EQ(parse_ok<std::int64_t>("9223372036854775807", ValueType::I64),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_ok<std::int64_t>("-9223372036854775808", ValueType::I64),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(parse_ok<std::int64_t>("-0x8000000000000000", ValueType::I64),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(parse_ok<std::int64_t>("-1234567890123", ValueType::I64), -1234567890123);
  EXPECT_NE(parse_error("9223372036854775808", ValueType::I64).find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("-9223372036854775809", ValueType::I64).find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("0x8000000000000000", ValueType::I64).find("out of range"),
            std::string::npos);
}

TEST(CliArguments, U64Extremes) {
  EXPECT_EQ(parse_ok<std::uint64_t>("18446744073709551615", ValueType::U64),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_ok<std::uint64_t>("0xffffffffffffffff", ValueType::U64),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_ok<std::uint64_t>("0x700000000000", ValueType::U64), 0x7000'0000'0000u);
  EXPECT_NE(parse_error("18446744073709551616", ValueType::U64).find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("0x10000000000000000", ValueType::U64).find("out of range"),
            std::string::npos);
}

TEST(CliArguments, MalformedIntegersAreRefused) {
  for (ValueType type : {ValueType::I32, ValueType::U32, ValueType::I64, ValueType::U64}) {
    for (std::string_view text : {"", "-", "0x", "-0x", "+5", " 5", "5 ", "5x", "1.5", "1e3",
                                  "0x0x5", "--5", "-+5", "abc", "0xg", "12_000", "five"}) {
      const std::string e = parse_error(text, type);
      EXPECT_FALSE(e.empty()) << text;
      if (text.empty() || text.front() != '-' || type == ValueType::I32 || type == ValueType::I64) {
        EXPECT_NE(e.find("not a valid"), std::string::npos) << text << ": " << e;
      }
    }
  }
}

TEST(CliArguments, IntegerErrorsQuoteTheInputAndTheType) {
  const std::string e = parse_error("seven", ValueType::U64);
  EXPECT_NE(e.find("'seven'"), std::string::npos) << e;
  EXPECT_NE(e.find("u64"), std::string::npos) << e;
}

// ---- floats -----------------------------------------------------------------------------------

TEST(CliArguments, F64Values) {
  EXPECT_EQ(parse_ok<double>("1.5", ValueType::F64), 1.5);
  EXPECT_EQ(parse_ok<double>("-2.25", ValueType::F64), -2.25);
  EXPECT_EQ(parse_ok<double>("3", ValueType::F64), 3.0);
  EXPECT_EQ(parse_ok<double>("1e300", ValueType::F64), 1e300);
  EXPECT_EQ(parse_ok<double>("-2E-3", ValueType::F64), -2e-3);
  EXPECT_EQ(parse_ok<double>(".5", ValueType::F64), 0.5);
  EXPECT_EQ(parse_ok<double>("0.1", ValueType::F64), 0.1);
  EXPECT_EQ(parse_ok<double>("inf", ValueType::F64), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_ok<double>("-inf", ValueType::F64), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_ok<double>("infinity", ValueType::F64), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(parse_ok<double>("nan", ValueType::F64)));
  EXPECT_TRUE(std::isnan(parse_ok<double>("NaN", ValueType::F64)));
  const double negative_zero = parse_ok<double>("-0", ValueType::F64);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(negative_zero), std::bit_cast<std::uint64_t>(-0.0));
  EXPECT_EQ(parse_ok<double>("4.9406564584124654e-324", ValueType::F64),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(parse_ok<double>("-1.7976931348623157e308", ValueType::F64),
            std::numeric_limits<double>::lowest());
}

TEST(CliArguments, F32ValuesAreRoundedOnceToFloat) {
  EXPECT_EQ(parse_ok<float>("1.5", ValueType::F32), 1.5f);
  EXPECT_EQ(parse_ok<float>("0.1", ValueType::F32), 0.1f);
  EXPECT_EQ(parse_ok<float>("3.4028235e38", ValueType::F32), std::numeric_limits<float>::max());
  EXPECT_EQ(parse_ok<float>("-inf", ValueType::F32), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(parse_ok<float>("nan", ValueType::F32)));
  const float negative_zero = parse_ok<float>("-0", ValueType::F32);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(negative_zero), std::bit_cast<std::uint32_t>(-0.0f));
  EXPECT_EQ(parse_ok<float>("1.4e-45", ValueType::F32), std::numeric_limits<float>::denorm_min());
}

TEST(CliArguments, FloatsOutOfRangeAreRefused) {
  EXPECT_NE(parse_error("1e39", ValueType::F32).find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("-1e39", ValueType::F32).find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("1e400", ValueType::F64).find("out of range"), std::string::npos);
  // 1e39 is a fine double.
  EXPECT_EQ(parse_ok<double>("1e39", ValueType::F64), 1e39);
}

TEST(CliArguments, MalformedFloatsAreRefused) {
  for (ValueType type : {ValueType::F32, ValueType::F64}) {
    for (std::string_view text : {"", "-", "+1", " 1", "1 ", "1.5x", "abc", "1,5", "0x1p3", "--1",
                                  "in", "nanx", "1e", "e5"}) {
      const std::string e = parse_error(text, type);
      EXPECT_NE(e.find("not a valid"), std::string::npos) << text << ": " << e;
    }
  }
}

// ---- bool and string --------------------------------------------------------------------------

TEST(CliArguments, Bools) {
  EXPECT_TRUE(parse_ok<bool>("true", ValueType::Bool));
  EXPECT_TRUE(parse_ok<bool>("1", ValueType::Bool));
  EXPECT_FALSE(parse_ok<bool>("false", ValueType::Bool));
  EXPECT_FALSE(parse_ok<bool>("0", ValueType::Bool));
  for (std::string_view text : {"", "yes", "no", "2", "True", "FALSE", "01", " true"}) {
    EXPECT_NE(parse_error(text, ValueType::Bool).find("true, false, 1 or 0"), std::string::npos)
        << text;
  }
}

TEST(CliArguments, StringsAreVerbatim) {
  EXPECT_EQ(parse_ok<std::string>("", ValueType::String), "");
  EXPECT_EQ(parse_ok<std::string>("hello world", ValueType::String), "hello world");
  EXPECT_EQ(parse_ok<std::string>("  -5 @x 0x12 ", ValueType::String), "  -5 @x 0x12 ");
  EXPECT_EQ(parse_ok<std::string>("\xff\xfe", ValueType::String), "\xff\xfe");
}

// ---- bytes ------------------------------------------------------------------------------------

TEST(CliArguments, BytesFromHex) {
  EXPECT_EQ(parse_ok<Bytes>("0x", ValueType::Bytes), Bytes{});
  EXPECT_EQ(parse_ok<Bytes>("0x0a0b", ValueType::Bytes), (Bytes{0x0a, 0x0b}));
  EXPECT_EQ(parse_ok<Bytes>("0XFF00aB", ValueType::Bytes), (Bytes{0xff, 0x00, 0xab}));
}

TEST(CliArguments, MalformedBytesAreRefused) {
  EXPECT_NE(parse_error("0x0", ValueType::Bytes).find("odd number"), std::string::npos);
  EXPECT_NE(parse_error("0x0g", ValueType::Bytes).find("not a hex digit"), std::string::npos);
  EXPECT_NE(parse_error("0x 0a", ValueType::Bytes).find("odd number"), std::string::npos);
  EXPECT_NE(parse_error("0x-1", ValueType::Bytes).find("not a hex digit"), std::string::npos);
  for (std::string_view text : {"", "0a0b", "hello", "x0a"}) {
    EXPECT_NE(parse_error(text, ValueType::Bytes).find("@file"), std::string::npos) << text;
  }
  EXPECT_NE(parse_error("@", ValueType::Bytes).find("file name"), std::string::npos);
}

TEST(CliArguments, BytesFromAFileGoThroughTheReader) {
  std::string asked;
  const FileReader reader = [&](const std::string& path) -> std::expected<Bytes, std::string> {
    asked = path;
    return Bytes{1, 2, 3};
  };
  auto v = parse_argument("@data/in.bin", ValueType::Bytes, reader);
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(std::get<Bytes>(*v), (Bytes{1, 2, 3}));
  EXPECT_EQ(asked, "data/in.bin");

  const FileReader failing = [](const std::string&) -> std::expected<Bytes, std::string> {
    return std::unexpected<std::string>("permission denied");
  };
  const std::string e = parse_error("@secret", ValueType::Bytes, failing);
  EXPECT_NE(e.find("secret"), std::string::npos) << e;
  EXPECT_NE(e.find("permission denied"), std::string::npos) << e;
}

TEST(CliArguments, TheDefaultReaderReadsRealFiles) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mote_cli_arguments_test_" + std::to_string(::testing::UnitTest::GetInstance()
                                                                      ->random_seed()) +
                     ".bin");
  {
    std::ofstream out(path, std::ios::binary);
    out.write("\x00\xff\x10", 3);
  }
  auto v = parse_argument("@" + path.string(), ValueType::Bytes);
  std::filesystem::remove(path);
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(std::get<Bytes>(*v), (Bytes{0x00, 0xff, 0x10}));

  auto missing = parse_argument("@/nonexistent/mote/file", ValueType::Bytes);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("/nonexistent/mote/file"), std::string::npos);
}

TEST(CliArguments, VoidIsNeverAParameter) {
  EXPECT_NE(parse_error("", ValueType::Void).find("void"), std::string::npos);
}

TEST(CliArguments, LongBadInputIsAbbreviatedInMessages) {
  const std::string text(500, '9');
  const std::string e = parse_error(text, ValueType::I32);
  EXPECT_LT(e.size(), 200u) << e;
  EXPECT_NE(e.find("..."), std::string::npos) << e;
}

// ---- sizes and log levels ---------------------------------------------------------------------

TEST(CliArguments, Sizes) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("64K"), 64u * 1024);
  EXPECT_EQ(parse_size("64k"), 64u * 1024);
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("64kb"), 64u * 1024);
  EXPECT_EQ(parse_size("4M"), 4u << 20);
  EXPECT_EQ(parse_size("1G"), 1u << 30);
  EXPECT_EQ(parse_size("17179869183G"), 17179869183ull << 30);
  for (std::string_view text : {"", "K", "-4K", "4T", "4 K", "4KK", "4.5M", "0x1000", "M4", "4Kx"}) {
    auto r = parse_size(text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_NE(r.error().find("not a valid size"), std::string::npos) << r.error();
    }
  }
  for (std::string_view text : {"17179869184G", "99999999999999999999"}) {
    auto r = parse_size(text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_NE(r.error().find("too large"), std::string::npos) << r.error();
    }
  }
}

TEST(CliArguments, FormatSizeReadsBack) {
  EXPECT_EQ(format_size(4u << 20), "4M");
  EXPECT_EQ(format_size(256u * 1024), "256K");
  EXPECT_EQ(format_size(1u << 30), "1G");
  EXPECT_EQ(format_size(1000), "1000");
  EXPECT_EQ(format_size(0), "0");
  for (std::uint64_t v : {0ull, 1ull, 4096ull, 65536ull, 3ull << 20, 5ull << 30, 123457ull}) {
    EXPECT_EQ(parse_size(format_size(v)), v);
  }
}

TEST(CliArguments, LogLevels) {
  EXPECT_EQ(parse_log_level("trace"), LogLevel::Trace);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::Debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::Info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::Warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::Error);
  EXPECT_EQ(parse_log_level("off"), LogLevel::Off);
  for (std::string_view text : {"", "INFO", "warning", "5", "verbose"}) {
    auto r = parse_log_level(text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_NE(r.error().find("trace, debug"), std::string::npos) << r.error();
    }
  }
}

// ---- result formatting ------------------------------------------------------------------------

TEST(CliArguments, ResultsPrintRawStringsHexBytesAndDecimalNumbers) {
  EXPECT_EQ(format_result(Value{}), "");
  EXPECT_EQ(format_result(Value{std::string("Hello, \"mote\"")}), "Hello, \"mote\"");
  EXPECT_EQ(format_result(Value{std::string("nul\0in", 6)}), std::string("nul\0in", 6));
  EXPECT_EQ(format_result(Value{Bytes{0x0a, 0xff}}), "0x0aff");
  EXPECT_EQ(format_result(Value{Bytes{}}), "0x");
  EXPECT_EQ(format_result(Value{std::int32_t{-5}}), "-5");
  EXPECT_EQ(format_result(Value{std::uint64_t{18446744073709551615ull}}), "18446744073709551615");
  EXPECT_EQ(format_result(Value{true}), "true");
  EXPECT_EQ(format_result(Value{1.5}), "1.5");
  EXPECT_EQ(format_result(Value{-0.0}), "-0");
  EXPECT_EQ(format_result(Value{std::numeric_limits<float>::infinity()}), "inf");
  EXPECT_EQ(format_result(Value{std::numeric_limits<double>::quiet_NaN()}), "nan");
}

TEST(CliArguments, PrintedResultsParseBackToTheSameValue) {
  const Value values[] = {Value{std::int32_t{-2147483647 - 1}}, Value{std::uint32_t{7}},
                          Value{std::int64_t{-9}}, Value{std::uint64_t{1} << 63}, Value{0.1f},
                          Value{-0.0}, Value{1e-310}, Value{false}, Value{Bytes{0, 1, 2}},
                          Value{std::string("text")}};
  for (const Value& v : values) {
    auto back = parse_argument(format_result(v), type_of(v), kNoFiles);
    ASSERT_TRUE(back) << format_result(v) << ": " << back.error();
    EXPECT_EQ(format_result(*back), format_result(v));
    EXPECT_EQ(type_of(*back), type_of(v));
  }
}

}  // namespace
}  // namespace mote::cli
