// End to end: snapshot files: save/load round trips with real guests, sparseness, atomic saves,
// and one refusal per kind of damage (truncation, flipped bytes, foreign headers, bad sizes).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "mote/abi.h"
#include "snapshot/memory_image.hpp"
#include "snapshot/sha256.hpp"
#include "snapshot/snapshot_file.hpp"
#include "snapshot/snapshot_state.hpp"
#include "test_sandbox.hpp"

namespace mote::test {
namespace {

namespace fs = std::filesystem;
namespace sf = snapshot_file;

std::int64_t count(Sandbox& s) {
  auto r = s.call<std::int64_t>("counter_increment");
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : -1;
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes `bytes` at `at` in place (the rest of the file, holes included, stays as it is).
void patch(const fs::path& path, std::uint64_t at, std::span<const std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::uint8_t byte_at(const fs::path& path, std::uint64_t at) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::uint8_t b = 0;
  EXPECT_EQ(::pread(fd, &b, 1, static_cast<off_t>(at)), 1);
  ::close(fd);
  return b;
}

void flip_byte(const fs::path& path, std::uint64_t at) {
  const std::uint8_t b = static_cast<std::uint8_t>(byte_at(path, at) ^ 0x40);
  patch(path, at, {&b, 1});
}

sf::HeaderBytes header_bytes(const fs::path& path) {
  sf::HeaderBytes h{};
  const auto all = read_bytes(path);
  EXPECT_GE(all.size(), h.size());
  std::copy_n(all.begin(), std::min(all.size(), h.size()), h.begin());
  return h;
}

sf::Header header_of(const fs::path& path) { return sf::parse_header(header_bytes(path)); }

// Changes header fields and writes the header back with a correct header SHA-256, so that the
// loader's check of that field (not the header checksum) is what refuses the file.
void rewrite_header(const fs::path& path, const std::function<void(sf::Header&)>& change) {
  sf::Header h = header_of(path);
  change(h);
  const sf::HeaderBytes bytes = sf::encode_header(h);
  patch(path, 0, bytes);
}

// Recomputes the header SHA-256 after raw edits of the header bytes.
void reseal_header(const fs::path& path) {
  const sf::HeaderBytes bytes = header_bytes(path);
  const Digest d = sf::header_digest(bytes);
  patch(path, sf::offset::kHeaderDigest, d);
}

// A fresh directory per test, removed afterwards.
class SnapshotFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mote_snapshot_file_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path file(const std::string& name) const { return dir_ / name; }

  std::vector<std::string> directory_entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  // A snapshot of test_guest after `calls` calls of counter_increment.
  static SnapshotPtr counted(int calls) {
    Sandbox s = make_sandbox();
    for (int i = 0; i < calls; ++i) EXPECT_EQ(count(s), i + 1);
    auto snap = s.snapshot();
    EXPECT_TRUE(snap) << snap.error().to_string();
    return snap ? *snap : nullptr;
  }

  static void save(const SnapshotPtr& snap, const fs::path& path) {
    auto saved = snap->save(path);
    ASSERT_TRUE(saved) << saved.error().to_string();
  }

  static SnapshotPtr load(const fs::path& path) {
    auto loaded = Snapshot::load(path);
    EXPECT_TRUE(loaded) << loaded.error().to_string();
    return loaded ? *loaded : nullptr;
  }

  // A valid file of an initialised test_guest (counter at 3).
  fs::path good_file(const std::string& name = "good.snap") {
    const fs::path path = file(name);
    save(counted(3), path);
    return path;
  }

  // Loading `path` is refused as an invalid snapshot with a message containing every `part`.
  static void expect_refused(const fs::path& path, std::initializer_list<std::string> parts) {
    auto loaded = Snapshot::load(path);
    ASSERT_FALSE(loaded) << path << " was accepted";
    EXPECT_EQ(loaded.error().kind(), ErrorKind::InvalidSnapshot) << loaded.error().to_string();
    for (const std::string& part : parts) {
      EXPECT_NE(loaded.error().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << loaded.error().message();
    }
  }

  fs::path dir_;
};

// ---- round trips ------------------------------------------------------------------------------

TEST_F(SnapshotFile, RoundTripKeepsDigestFunctionsAndNextAction) {
  SnapshotPtr original = counted(3);
  save(original, file("a.snap"));
  SnapshotPtr loaded = load(file("a.snap"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), original->digest());
  EXPECT_EQ(loaded->config_identity(), original->config_identity());
  EXPECT_EQ(loaded->next_action(), NextAction::Call);
  EXPECT_EQ(loaded->abi_version(), original->abi_version());
  EXPECT_EQ(loaded->memory_size(), original->memory_size());
  EXPECT_EQ(loaded->stored_pages(), original->stored_pages());
  ASSERT_EQ(loaded->functions().size(), original->functions().size());
  EXPECT_TRUE(std::equal(loaded->functions().begin(), loaded->functions().end(),
                         original->functions().begin()));
  EXPECT_FALSE(loaded->functions().empty());
}

TEST_F(SnapshotFile, LoadedMemoryIsTheFileMappedNotACopy) {
  const fs::path path = good_file();
  SnapshotPtr loaded = load(path);
  ASSERT_TRUE(loaded);
  const MemoryImage& memory = loaded->state().memory;
  struct stat of_fd = {};
  struct stat of_path = {};
  ASSERT_EQ(::fstat(memory.fd(), &of_fd), 0);
  ASSERT_EQ(::stat(path.c_str(), &of_path), 0);
  EXPECT_EQ(of_fd.st_ino, of_path.st_ino);
  EXPECT_EQ(memory.offset(), header_of(path).memory_offset);
  EXPECT_EQ(memory.offset() % 4096, 0u);
  // Hashing only the file's data extents gives the same digest as hashing every page.
  std::uint64_t stored = 0;
  EXPECT_EQ(MemoryImage::memory_digest(memory.bytes(), &stored), memory.digest());
  EXPECT_EQ(stored, memory.stored_pages());
}

TEST_F(SnapshotFile, SandboxFromTheLoadedSnapshotContinuesTheCount) {
  SnapshotPtr original = counted(3);
  save(original, file("a.snap"));
  SnapshotPtr loaded = load(file("a.snap"));
  ASSERT_TRUE(loaded);
  auto from_original = Sandbox::from_snapshot(original, test_host_functions());
  auto from_loaded = Sandbox::from_snapshot(loaded, test_host_functions());
  ASSERT_TRUE(from_original) << from_original.error().to_string();
  ASSERT_TRUE(from_loaded) << from_loaded.error().to_string();
  for (std::int64_t expected = 4; expected <= 6; ++expected) {
    EXPECT_EQ(count(*from_original), expected);
    EXPECT_EQ(count(*from_loaded), expected);
  }
  auto a = from_original->call<std::int32_t>("add", 20, 22);
  auto b = from_loaded->call<std::int32_t>("add", 20, 22);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto echo = from_loaded->call<std::string>("echo_string", std::string("from a file"));
  ASSERT_TRUE(echo) << echo.error().to_string();
  EXPECT_EQ(*echo, "from a file");
  // Restores to the loaded snapshot work, and the original sandbox accepts it (same identity).
  ASSERT_TRUE(from_loaded->restore(loaded));
  EXPECT_EQ(count(*from_loaded), 4);
  ASSERT_TRUE(from_original->restore(loaded));
  EXPECT_EQ(count(*from_original), 4);
}

TEST_F(SnapshotFile, ManyDirtyPagesRoundTrip) {
  Sandbox s = make_sandbox();
  auto filled = s.call<std::uint64_t>("fill_pages", 3u, 500u, 9u);
  ASSERT_TRUE(filled) << filled.error().to_string();
  auto snap = s.snapshot();
  ASSERT_TRUE(snap);
  save(*snap, file("big.snap"));
  SnapshotPtr loaded = load(file("big.snap"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), (*snap)->digest());
  EXPECT_GE(loaded->stored_pages(), 500u);
  auto from_loaded = Sandbox::from_snapshot(loaded, test_host_functions());
  ASSERT_TRUE(from_loaded);
  auto sum = from_loaded->call<std::uint64_t>("checksum_big");
  ASSERT_TRUE(sum);
  EXPECT_EQ(*sum, *filled);
}

TEST_F(SnapshotFile, PreInitialisationSnapshotRoundTrips) {
  auto original = Snapshot::from_binary(guest_bytes("test_guest"));
  ASSERT_TRUE(original) << original.error().to_string();
  save(*original, file("boot.snap"));
  SnapshotPtr loaded = load(file("boot.snap"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), (*original)->digest());
  EXPECT_EQ(loaded->next_action(), NextAction::Initialise);
  EXPECT_TRUE(loaded->functions().empty());
  auto s = Sandbox::from_snapshot(loaded, test_host_functions());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_FALSE(s->functions().empty());
  EXPECT_EQ(count(*s), 1);
  EXPECT_EQ(count(*s), 2);
}

TEST_F(SnapshotFile, ALoadedSnapshotSavesToTheSameBytesEvenOverItsOwnFile) {
  const fs::path path = good_file();
  SnapshotPtr loaded = load(path);
  ASSERT_TRUE(loaded);
  save(loaded, file("copy.snap"));
  EXPECT_EQ(read_bytes(file("copy.snap")), read_bytes(path));
  // Over the file it is mapped from: the rename leaves the mapped (old) file intact.
  save(loaded, path);
  SnapshotPtr again = load(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->digest(), loaded->digest());
  auto s = Sandbox::from_snapshot(loaded, test_host_functions());
  ASSERT_TRUE(s);
  EXPECT_EQ(count(*s), 4);
}

TEST_F(SnapshotFile, SavedFileIsSparse) {
  SnapshotPtr snap = counted(1);
  const fs::path path = file("sparse.snap");
  save(snap, path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const sf::Header h = header_of(path);
  const auto logical = static_cast<std::uint64_t>(st.st_size);
  const auto on_disk = static_cast<std::uint64_t>(st.st_blocks) * 512;
  EXPECT_EQ(logical, h.memory_offset + snap->memory_size());
  EXPECT_EQ(h.stored_pages, snap->stored_pages());
  EXPECT_LT(snap->stored_pages() * 4, snap->memory_size() / 4096) << "the guest uses most pages";
  // Header, metadata and the stored pages, plus a little file-system slack.
  EXPECT_LE(on_disk, h.memory_offset + (snap->stored_pages() + 16) * 4096)
      << on_disk << " bytes on disk for " << logical << " logical";
  EXPECT_LT(on_disk * 4, logical);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// ---- atomic saves -----------------------------------------------------------------------------

TEST_F(SnapshotFile, SavingOverAnExistingFileReplacesItAndLeavesNoTemporaryFile) {
  SnapshotPtr one = counted(1), two = counted(2);
  const fs::path path = file("s.snap");
  save(one, path);
  save(two, path);
  SnapshotPtr loaded = load(path);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), two->digest());
  EXPECT_EQ(directory_entries(), std::vector<std::string>{"s.snap"});
}

TEST_F(SnapshotFile, ReadersSeeTheOldOrTheNewFileNeverAMixture) {
  SnapshotPtr one = counted(1), two = counted(2);
  const fs::path path = file("s.snap");
  save(one, path);
  std::atomic<bool> done{false};
  std::atomic<int> loads{0}, bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto loaded = Snapshot::load(path);
      if (!loaded ||
          ((*loaded)->digest() != one->digest() && (*loaded)->digest() != two->digest())) {
        ++bad;
      }
      ++loads;
    }
  });
  for (int i = 0; i < 20; ++i) save(i % 2 == 0 ? two : one, path);
  while (loads.load() < 5) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << loads.load() << " loads";
  EXPECT_EQ(directory_entries(), std::vector<std::string>{"s.snap"});
}

TEST_F(SnapshotFile, SavesUnderTheLongestFileName) {
  SnapshotPtr snap = counted(1);
  const std::string name(255, 'n');  // NAME_MAX: the temporary name must not grow past it
  save(snap, file(name));
  SnapshotPtr loaded = load(file(name));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), snap->digest());
  EXPECT_EQ(directory_entries(), std::vector<std::string>{name});
}

TEST_F(SnapshotFile, AFailedSaveLeavesNoTemporaryFile) {
  SnapshotPtr snap = counted(1);
  fs::create_directories(file("occupied") / "child");  // rename over a non-empty directory fails
  auto saved = snap->save(file("occupied"));
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind(), ErrorKind::Io);
  EXPECT_NE(saved.error().message().find(file("occupied").string()), std::string::npos)
      << saved.error().message();
  EXPECT_EQ(directory_entries(), std::vector<std::string>{"occupied"});

  auto nowhere = snap->save(file("missing") / "x.snap");
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().kind(), ErrorKind::Io);
  EXPECT_NE(nowhere.error().message().find("No such file or directory"), std::string::npos)
      << nowhere.error().message();
}

// ---- refusals: the file itself -----------------------------------------------------------------

TEST_F(SnapshotFile, MissingFileIsAnIoError) {
  auto loaded = Snapshot::load(file("absent.snap"));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind(), ErrorKind::Io);
  EXPECT_NE(loaded.error().message().find("absent.snap"), std::string::npos);
}

TEST_F(SnapshotFile, SymbolicLinkIsRefused) {
  const fs::path target = good_file();
  fs::create_symlink(target, file("link.snap"));
  expect_refused(file("link.snap"), {"link.snap", "is a symbolic link"});
}

TEST_F(SnapshotFile, DirectoryIsRefused) {
  fs::create_directories(file("dir.snap"));
  expect_refused(file("dir.snap"), {"not a regular file"});
}

TEST_F(SnapshotFile, FifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(::mkfifo(file("fifo.snap").c_str(), 0600), 0);
  expect_refused(file("fifo.snap"), {"not a regular file"});
}

TEST_F(SnapshotFile, EmptyFileIsRefused) {
  std::ofstream(file("empty.snap")).close();
  expect_refused(file("empty.snap"), {"header", "empty"});
}

TEST_F(SnapshotFile, TruncatedFileIsRefusedWhereverItIsCut) {
  const fs::path good = good_file();
  const sf::Header h = header_of(good);
  const std::uint64_t cuts[] = {1,
                                100,
                                sf::kHeaderSize - 1,
                                sf::kHeaderSize,
                                sf::kHeaderSize + h.metadata_size / 2,
                                h.memory_offset,
                                h.memory_offset + 4096 * 3 + 17,
                                h.file_size - 4096,
                                h.file_size - 1};
  for (std::uint64_t cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const fs::path path = file("cut.snap");
    fs::copy_file(good, path, fs::copy_options::overwrite_existing);
    fs::resize_file(path, cut);
    expect_refused(path, {"header", "truncated"});
  }
}

TEST_F(SnapshotFile, ExtendedFileIsRefused) {
  const fs::path path = good_file();
  fs::resize_file(path, header_of(path).file_size + 4096);
  expect_refused(path, {"header", "its header says", "extended"});
}

// ---- refusals: corrupt bytes --------------------------------------------------------------------

TEST_F(SnapshotFile, FlippedByteInAMemoryDataPageIsRefused) {
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const off_t data = ::lseek(fd, static_cast<off_t>(h.memory_offset), SEEK_DATA);
  ::close(fd);
  ASSERT_GE(data, static_cast<off_t>(h.memory_offset));
  flip_byte(path, static_cast<std::uint64_t>(data) + 123);
  expect_refused(path, {"memory", "SHA-256 mismatch"});
}

TEST_F(SnapshotFile, ByteWrittenIntoAMemoryHoleIsRefused) {
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const off_t hole = ::lseek(fd, static_cast<off_t>(h.memory_offset), SEEK_HOLE);
  ::close(fd);
  ASSERT_GE(hole, static_cast<off_t>(h.memory_offset));
  ASSERT_LT(static_cast<std::uint64_t>(hole), h.file_size) << "no hole in the memory section";
  ASSERT_EQ(byte_at(path, static_cast<std::uint64_t>(hole) + 99), 0);
  flip_byte(path, static_cast<std::uint64_t>(hole) + 99);  // a zero page becomes non-zero
  expect_refused(path, {"memory", "SHA-256 mismatch"});
}

TEST_F(SnapshotFile, ZeroPageWrittenIntoAHoleIsAccepted) {
  // Zeros stored as data or as holes are the same memory: same digest.
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const off_t hole = ::lseek(fd, static_cast<off_t>(h.memory_offset), SEEK_HOLE);
  ::close(fd);
  ASSERT_LT(static_cast<std::uint64_t>(hole), h.file_size) << "no hole in the memory section";
  const std::vector<std::uint8_t> zeros(4096, 0);
  patch(path, static_cast<std::uint64_t>(hole), zeros);
  SnapshotPtr loaded = load(path);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->digest(), h.content_digest);
}

TEST_F(SnapshotFile, FlippedByteInMetadataIsRefused) {
  const fs::path path = good_file();
  flip_byte(path, header_of(path).metadata_offset + 40);
  expect_refused(path, {"metadata", "SHA-256 mismatch"});
}

TEST_F(SnapshotFile, MetadataWithAValidChecksumThatDoesNotDecodeIsRefused) {
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  std::vector<std::uint8_t> metadata = read_bytes(path);
  metadata = {metadata.begin() + static_cast<std::ptrdiff_t>(h.metadata_offset),
              metadata.begin() + static_cast<std::ptrdiff_t>(h.metadata_offset + h.metadata_size)};
  metadata.back() ^= 0x01;  // the last function's last type byte, or its name
  metadata.push_back(0);    // and a trailing byte
  patch(path, h.metadata_offset, metadata);
  rewrite_header(path, [&](sf::Header& changed) {
    changed.metadata_size = metadata.size();
    changed.metadata_digest = Sha256::of(metadata);
  });
  expect_refused(path, {"metadata"});
}

TEST_F(SnapshotFile, FlippedByteInTheHeaderIsRefused) {
  for (std::size_t at :
       {sf::offset::kFileSize, sf::offset::kConfigIdentity + 5, sf::offset::kMemoryDigest + 31,
        sf::offset::kReserved + 1000, sf::offset::kHeaderDigest + 3}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    const fs::path path = good_file();
    flip_byte(path, at);
    expect_refused(path, {"header", "SHA-256 mismatch"});
  }
}

TEST_F(SnapshotFile, WrongMagicIsRefused) {
  const fs::path path = good_file();
  const std::uint8_t elf[8] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  patch(path, 0, elf);
  reseal_header(path);
  expect_refused(path, {"header", "bad magic", "not a mote snapshot file"});
}

TEST_F(SnapshotFile, WrongFormatVersionIsRefusedNamingBothVersions) {
  const fs::path path = good_file();
  rewrite_header(path, [](sf::Header& h) { h.version = 2; });
  expect_refused(path, {"header", "format version 2", "reads version 1"});
  // Checked before the header checksum: a future version may lay its header out differently.
  const std::uint8_t seven[4] = {7, 0, 0, 0};
  patch(path, sf::offset::kVersion, seven);
  expect_refused(path, {"header", "format version 7"});
}

TEST_F(SnapshotFile, WrongArchitectureIsRefused) {
  const fs::path path = good_file();
  rewrite_header(path, [](sf::Header& h) { h.arch = 183; });  // EM_AARCH64
  expect_refused(path, {"header", "architecture 183", "x86-64"});
}

TEST_F(SnapshotFile, WrongAbiVersionIsRefusedNamingBothVersions) {
  const fs::path path = good_file();
  rewrite_header(path, [](sf::Header& h) { h.abi_version = 99; });
  expect_refused(
      path, {"header", "guest ABI version 99", "ABI version " + std::to_string(MOTE_ABI_VERSION)});
}

// ---- refusals: sizes and digests that do not add up ------------------------------------------

TEST_F(SnapshotFile, MemorySizeDifferentFromTheMetadataLayoutIsRefused) {
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  fs::resize_file(path, h.file_size - 4096);
  rewrite_header(path, [](sf::Header& changed) {
    changed.memory_size -= 4096;
    changed.file_size -= 4096;
  });
  expect_refused(path, {"memory", "layout"});
}

TEST_F(SnapshotFile, SectionsOutsideTheFileAreRefused) {
  const fs::path good = good_file();
  const sf::Header h = header_of(good);
  const std::function<void(sf::Header&)> changes[] = {
      [&](sf::Header& c) { c.memory_offset = h.file_size; },
      [&](sf::Header& c) { c.memory_offset = ~std::uint64_t{0} - 4095; },  // offset + size wraps
      [&](sf::Header& c) { c.metadata_offset = ~std::uint64_t{0} - 10; },
      [&](sf::Header& c) { c.metadata_offset = 0; },  // inside the header
      [&](sf::Header& c) { c.metadata_offset = h.file_size - 1; },
  };
  for (std::size_t i = 0; i < std::size(changes); ++i) {
    SCOPED_TRACE("change " + std::to_string(i));
    const fs::path path = file("outside.snap");
    fs::copy_file(good, path, fs::copy_options::overwrite_existing);
    rewrite_header(path, changes[i]);
    expect_refused(path, {"header", "outside the file"});
  }
}

TEST_F(SnapshotFile, OverlappingSectionsAreRefused) {
  const fs::path path = good_file();
  rewrite_header(path, [](sf::Header& h) { h.metadata_offset = h.memory_offset; });
  expect_refused(path, {"header", "overlap"});
}

TEST_F(SnapshotFile, OutOfRangeSizesAreRefusedBeforeAnythingIsRead) {
  const fs::path good = good_file();
  struct Case {
    std::function<void(sf::Header&)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](sf::Header& h) { h.metadata_size = 1ull << 40; }, "metadata size"},
      {[](sf::Header& h) { h.metadata_size = 0; }, "metadata size"},
      {[](sf::Header& h) { h.memory_size = 0; }, "memory section"},
      {[](sf::Header& h) { h.memory_size = 2ull << 30; }, "memory section"},
      {[](sf::Header& h) { h.memory_size -= 100; }, "not page-aligned"},
      {[](sf::Header& h) { h.memory_offset += 8; }, "not page-aligned"},
      {[](sf::Header& h) { h.stored_pages = h.memory_size; }, "stored pages"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const fs::path path = file("sizes.snap");
    fs::copy_file(good, path, fs::copy_options::overwrite_existing);
    rewrite_header(path, c.change);
    expect_refused(path, {"header", c.message});
  }
}

TEST_F(SnapshotFile, TrailingBytesAfterTheLastSectionAreRefused) {
  const fs::path path = good_file();
  const sf::Header h = header_of(path);
  fs::resize_file(path, h.file_size + 4096);
  rewrite_header(path, [](sf::Header& c) { c.file_size += 4096; });
  expect_refused(path, {"header", "4096 bytes follow the last section"});
}

TEST_F(SnapshotFile, DigestsThatDoNotMatchTheContentAreRefused) {
  const fs::path good = good_file();
  struct Case {
    std::function<void(sf::Header&)> change;
    std::vector<std::string> message;
  };
  const Case cases[] = {
      {[](sf::Header& h) { h.config_identity[0] ^= 1; }, {"header", "configuration identity"}},
      {[](sf::Header& h) { h.content_digest[7] ^= 1; }, {"header", "content digest"}},
      {[](sf::Header& h) { h.memory_digest[31] ^= 1; }, {"memory", "SHA-256 mismatch"}},
      {[](sf::Header& h) { h.metadata_digest[0] ^= 1; }, {"metadata", "SHA-256 mismatch"}},
      {[](sf::Header& h) { h.stored_pages -= 1; }, {"memory", "pages hold data"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message.back());
    const fs::path path = file("digest.snap");
    fs::copy_file(good, path, fs::copy_options::overwrite_existing);
    rewrite_header(path, c.change);
    auto loaded = Snapshot::load(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().kind(), ErrorKind::InvalidSnapshot);
    for (const std::string& part : c.message) {
      EXPECT_NE(loaded.error().message().find(part), std::string::npos) << loaded.error().message();
    }
  }
}

}  // namespace
}  // namespace mote::test
