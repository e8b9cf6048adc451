// Snapshot files: Snapshot::save (sparse, atomic) and Snapshot::load (validated, memory mapped).
#include "snapshot/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "memory/layout.hpp"
#include "mote/abi.h"
#include "snapshot/memory_image.hpp"
#include "snapshot/metadata.hpp"
#include "snapshot/sha256.hpp"
#include "snapshot/snapshot_state.hpp"

namespace mote {

namespace snapshot_file {

namespace {

void put32(HeaderBytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(HeaderBytes& b, std::size_t at, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_digest(HeaderBytes& b, std::size_t at, const Digest& d) {
  std::copy(d.begin(), d.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
}
std::uint32_t get32(const HeaderBytes& b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= std::uint32_t{b[at + i]} << (8 * i);
  return v;
}
std::uint64_t get64(const HeaderBytes& b, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}
Digest get_digest(const HeaderBytes& b, std::size_t at) {
  Digest d{};
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), d.size(), d.begin());
  return d;
}

}  // namespace

Digest header_digest(const HeaderBytes& bytes) {
  return Sha256::of(std::span<const std::uint8_t>(bytes.data(), offset::kHeaderDigest));
}

HeaderBytes encode_header(const Header& h) {
  HeaderBytes b{};
  std::copy(kMagic.begin(), kMagic.end(), b.begin());
  put32(b, offset::kVersion, h.version);
  put32(b, offset::kArch, h.arch);
  put32(b, offset::kAbiVersion, h.abi_version);
  put32(b, offset::kHeaderSize, h.header_size);
  put64(b, offset::kFileSize, h.file_size);
  put64(b, offset::kMetadataOffset, h.metadata_offset);
  put64(b, offset::kMetadataSize, h.metadata_size);
  put64(b, offset::kMemoryOffset, h.memory_offset);
  put64(b, offset::kMemorySize, h.memory_size);
  put64(b, offset::kStoredPages, h.stored_pages);
  put_digest(b, offset::kConfigIdentity, h.config_identity);
  put_digest(b, offset::kContentDigest, h.content_digest);
  put_digest(b, offset::kMetadataDigest, h.metadata_digest);
  put_digest(b, offset::kMemoryDigest, h.memory_digest);
  put_digest(b, offset::kHeaderDigest, header_digest(b));
  return b;
}

Header parse_header(const HeaderBytes& b) {
  Header h;
  h.version = get32(b, offset::kVersion);
  h.arch = get32(b, offset::kArch);
  h.abi_version = get32(b, offset::kAbiVersion);
  h.header_size = get32(b, offset::kHeaderSize);
  h.file_size = get64(b, offset::kFileSize);
  h.metadata_offset = get64(b, offset::kMetadataOffset);
  h.metadata_size = get64(b, offset::kMetadataSize);
  h.memory_offset = get64(b, offset::kMemoryOffset);
  h.memory_size = get64(b, offset::kMemorySize);
  h.stored_pages = get64(b, offset::kStoredPages);
  h.config_identity = get_digest(b, offset::kConfigIdentity);
  h.content_digest = get_digest(b, offset::kContentDigest);
  h.metadata_digest = get_digest(b, offset::kMetadataDigest);
  h.memory_digest = get_digest(b, offset::kMemoryDigest);
  return h;
}

}  // namespace snapshot_file

namespace {

using namespace snapshot_file;

Error io_error(const std::filesystem::path& path, std::string_view what, int error_number) {
  return Error(ErrorKind::Io,
               fmt::format("{}: {}: {}", path.string(), what, std::strerror(error_number)));
}

// A refusal: `part` is "header", "metadata" or "memory", the part of the file that is wrong.
Error invalid(const std::filesystem::path& path, std::string_view part, std::string detail) {
  return Error(ErrorKind::InvalidSnapshot,
               fmt::format("snapshot file {}: {}: {}", path.string(), part, detail));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

Result<void> write_all(int fd, std::span<const std::uint8_t> bytes, std::uint64_t at,
                       const std::filesystem::path& path) {
  for (std::uint64_t done = 0; done < bytes.size();) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::unexpected(io_error(path, "write", n < 0 ? errno : EIO));
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<void> read_all(int fd, std::span<std::uint8_t> bytes, std::uint64_t at,
                      const std::filesystem::path& path, std::string_view part) {
  for (std::uint64_t done = 0; done < bytes.size();) {
    const ssize_t n =
        ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(io_error(path, "read", errno));
    if (n == 0) {
      return std::unexpected(invalid(path, part, "the file became shorter while being read"));
    }
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

// A temporary file beside the target, removed unless commit() renamed it over the target.
class TempFile {
 public:
  static Result<TempFile> create(const std::filesystem::path& target) {
    static std::atomic<std::uint64_t> counter{0};
    const std::filesystem::path directory =
        target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::uint64_t random = 0;
      if (::getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random) random = 0;
      // The target's name, shortened so that the temporary name stays within NAME_MAX.
      const std::string name = target.filename().string().substr(0, 200);
      const std::filesystem::path temp =
          directory /
          fmt::format(".{}.{}-{}-{:016x}.tmp", name, ::getpid(), counter.fetch_add(1), random);
      // 0600: the file holds guest memory, which may hold whatever the calls passed in.
      const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) return TempFile(temp, fd);
      if (errno != EEXIST) {
        return std::unexpected(io_error(temp, "cannot create the temporary file", errno));
      }
    }
    return std::unexpected(io_error(directory, "cannot find a free temporary file name", EEXIST));
  }

  TempFile(TempFile&& other) noexcept
      : path_(std::move(other.path_)),
        fd_(other.fd_.release()),
        armed_(std::exchange(other.armed_, false)) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    fd_.reset();
    if (armed_) ::unlink(path_.c_str());
  }

  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }

  // fsyncs and closes the file, then renames it over `target`.
  Result<void> commit(const std::filesystem::path& target) {
    if (::fsync(fd_.get()) != 0) return std::unexpected(io_error(path_, "fsync", errno));
    if (::close(fd_.release()) != 0) return std::unexpected(io_error(path_, "close", errno));
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      return std::unexpected(
          io_error(target, fmt::format("cannot rename {} over it", path_.string()), errno));
    }
    armed_ = false;
    return {};
  }

 private:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  FileDescriptor fd_;
  bool armed_ = true;
};

Result<void> fsync_directory(const std::filesystem::path& target) {
  const std::filesystem::path directory =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(io_error(directory, "cannot open the directory", errno));
  if (::fsync(fd.get()) != 0) return std::unexpected(io_error(directory, "fsync", errno));
  return {};
}

// Writes the non-zero pages of `memory` at `at` in the file, one pwrite per run of them. Pages the
// image stores as holes are not even read.
Result<void> write_memory(int fd, const MemoryImage& memory, std::uint64_t at,
                          const std::filesystem::path& path) {
  const std::vector<PageRun> runs = MOTE_TRY(memory.data_runs());
  const std::uint8_t* base = memory.bytes().data();
  for (const PageRun& run : runs) {
    for (std::uint64_t page = run.first; page < run.end;) {
      if (is_zero_page(base + page * kPageSize)) {
        ++page;
        continue;
      }
      std::uint64_t end = page + 1;
      while (end < run.end && !is_zero_page(base + end * kPageSize)) ++end;
      MOTE_TRY_VOID(write_all(fd, {base + page * kPageSize, (end - page) * kPageSize},
                              at + page * kPageSize, path));
      page = end;
    }
  }
  return {};
}

// [offset, offset + size) lies in [kHeaderSize, file_size), without overflow.
bool inside(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
  return offset >= kHeaderSize && offset <= file_size && size <= file_size - offset;
}

// The header checks that need nothing but the header and the file's size, in order: identify the
// file, then trust the header (its SHA-256), then what it says.
Result<Header> check_header(const HeaderBytes& bytes, std::uint64_t file_size,
                            const std::filesystem::path& path) {
  const auto refuse = [&](std::string detail) {
    return std::unexpected(invalid(path, "header", std::move(detail)));
  };
  if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return refuse("bad magic: not a mote snapshot file");
  }
  const Header h = parse_header(bytes);
  if (h.version != kFormatVersion) {
    return refuse(
        fmt::format("format version {}, this host reads version {}", h.version, kFormatVersion));
  }
  if (header_digest(bytes) != snapshot_file::get_digest(bytes, offset::kHeaderDigest)) {
    return refuse("SHA-256 mismatch: the header is corrupt");
  }
  if (h.arch != kArchX86_64) {
    return refuse(
        fmt::format("architecture {}, this host loads x86-64 ({}) snapshots", h.arch, kArchX86_64));
  }
  if (h.abi_version != MOTE_ABI_VERSION) {
    return refuse(fmt::format("guest ABI version {}, this host speaks ABI version {}",
                              h.abi_version, MOTE_ABI_VERSION));
  }
  if (h.header_size != kHeaderSize ||
      !std::all_of(bytes.begin() + offset::kReserved, bytes.begin() + offset::kHeaderDigest,
                   [](std::uint8_t b) { return b == 0; })) {
    return refuse("header size or reserved bytes differ from this format version's");
  }
  if (h.file_size != file_size) {
    return refuse(fmt::format("the file is {} bytes, its header says {}: {}", file_size,
                              h.file_size, file_size < h.file_size ? "truncated" : "extended"));
  }
  if (h.metadata_size == 0 || h.metadata_size > kMaxMetadataSize) {
    return refuse(fmt::format("metadata size {} is out of range (1 to {})", h.metadata_size,
                              kMaxMetadataSize));
  }
  if (h.memory_size == 0 || h.memory_size > kMaxMemorySize || h.memory_size % kPageSize != 0 ||
      h.memory_offset % kPageSize != 0) {
    return refuse(
        fmt::format("memory section at {} of {} bytes: not page-aligned, or empty, or over {}",
                    h.memory_offset, h.memory_size, kMaxMemorySize));
  }
  if (!inside(h.metadata_offset, h.metadata_size, file_size) ||
      !inside(h.memory_offset, h.memory_size, file_size)) {
    return refuse(
        fmt::format("a section lies outside the file's bytes [{}, {}) after the header: "
                    "metadata at {} of {} bytes, memory at {} of {} bytes",
                    kHeaderSize, file_size, h.metadata_offset, h.metadata_size, h.memory_offset,
                    h.memory_size));
  }
  const std::uint64_t metadata_end = h.metadata_offset + h.metadata_size;
  const std::uint64_t memory_end = h.memory_offset + h.memory_size;
  if (h.metadata_offset < memory_end && h.memory_offset < metadata_end) {
    return refuse("the metadata and memory sections overlap");
  }
  if (std::max(metadata_end, memory_end) != file_size) {
    return refuse(fmt::format("{} bytes follow the last section",
                              file_size - std::max(metadata_end, memory_end)));
  }
  if (h.stored_pages > h.memory_size / kPageSize) {
    return refuse(
        fmt::format("{} stored pages in {} bytes of memory", h.stored_pages, h.memory_size));
  }
  return h;
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> Snapshot::load(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) {
      return std::unexpected(
          invalid(path, "file", "is a symbolic link (refused: open the target)"));
    }
    return std::unexpected(io_error(path, "cannot open", errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(io_error(path, "fstat", errno));
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(
        invalid(path, "file",
                S_ISDIR(st.st_mode) ? "not a regular file (a directory)" : "not a regular file"));
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < kHeaderSize) {
    return std::unexpected(invalid(
        path, "header",
        file_size == 0 ? std::string("the file is empty")
                       : fmt::format("truncated: the file is {} bytes, the header alone is {}",
                                     file_size, kHeaderSize)));
  }

  HeaderBytes header_bytes{};
  MOTE_TRY_VOID(read_all(fd.get(), header_bytes, 0, path, "header"));
  const Header h = MOTE_TRY(check_header(header_bytes, file_size, path));

  std::vector<std::uint8_t> metadata(h.metadata_size);
  MOTE_TRY_VOID(read_all(fd.get(), metadata, h.metadata_offset, path, "metadata"));
  const Digest metadata_digest = Sha256::of(metadata);
  if (metadata_digest != h.metadata_digest) {
    return std::unexpected(invalid(path, "metadata", "SHA-256 mismatch: the metadata is corrupt"));
  }
  auto decoded = decode_metadata(metadata);
  if (!decoded) {
    std::string_view reason = decoded.error().message();
    if (reason.starts_with("snapshot metadata: ")) reason.remove_prefix(19);
    return std::unexpected(invalid(path, "metadata", std::string(reason)));
  }
  SnapshotMetadata meta = std::move(decoded).value();
  if (meta.abi_version != h.abi_version) {
    return std::unexpected(invalid(path, "metadata",
                                   fmt::format("guest ABI version {} differs from the header's {}",
                                               meta.abi_version, h.abi_version)));
  }
  if (meta.layout.total_size != h.memory_size) {
    return std::unexpected(
        invalid(path, "memory",
                fmt::format("the section is {} bytes, the metadata's layout has {} bytes of memory",
                            h.memory_size, meta.layout.total_size)));
  }
  if (mote::config_identity(meta.layout, meta.abi_version) != h.config_identity) {
    return std::unexpected(
        invalid(path, "header", "the configuration identity does not match the metadata"));
  }

  auto image = MemoryImage::adopt(fd.release(), h.memory_offset, h.memory_size);
  if (!image) {
    if (image.error().kind() == ErrorKind::Io) return std::unexpected(std::move(image).error());
    return std::unexpected(invalid(path, "memory", image.error().message()));
  }
  if (image->digest() != h.memory_digest) {
    return std::unexpected(invalid(path, "memory", "SHA-256 mismatch: the memory is corrupt"));
  }
  if (image->stored_pages() != h.stored_pages) {
    return std::unexpected(invalid(path, "memory",
                                   fmt::format("{} pages hold data, the header says {}",
                                               image->stored_pages(), h.stored_pages)));
  }
  if (content_digest(metadata_digest, image->digest()) != h.content_digest) {
    return std::unexpected(
        invalid(path, "header", "the content digest does not match the metadata and memory"));
  }
  auto snapshot = make_snapshot(std::move(meta), std::move(image).value());
  if (snapshot->digest() != h.content_digest) {  // a host bug if it happens: the encoding changed
    return std::unexpected(
        invalid(path, "metadata", "the metadata does not re-encode to the bytes that were saved"));
  }
  return snapshot;
}

Result<void> Snapshot::save(const std::filesystem::path& path) const {
  const State& s = *state_;
  if (!path.has_filename()) {
    return fail(ErrorKind::Io,
                fmt::format("{}: cannot save a snapshot: no file name", path.string()));
  }
  const std::vector<std::uint8_t> metadata = encode_metadata(s.meta);
  Header h;
  h.abi_version = s.meta.abi_version;
  h.metadata_offset = kHeaderSize;
  h.metadata_size = metadata.size();
  h.memory_offset = (kHeaderSize + metadata.size() + kPageSize - 1) / kPageSize * kPageSize;
  h.memory_size = s.memory.size();
  h.file_size = h.memory_offset + h.memory_size;
  h.stored_pages = s.memory.stored_pages();
  h.config_identity = s.identity;
  h.content_digest = s.digest;
  h.metadata_digest = Sha256::of(metadata);
  h.memory_digest = s.memory.digest();
  const HeaderBytes header = encode_header(h);

  TempFile temp = MOTE_TRY(TempFile::create(path));
  // The full size first: the memory's zero pages stay holes and take no disk space.
  if (::ftruncate(temp.fd(), static_cast<off_t>(h.file_size)) != 0) {
    return std::unexpected(io_error(temp.path(), "ftruncate", errno));
  }
  MOTE_TRY_VOID(write_all(temp.fd(), header, 0, temp.path()));
  MOTE_TRY_VOID(write_all(temp.fd(), metadata, h.metadata_offset, temp.path()));
  MOTE_TRY_VOID(write_memory(temp.fd(), s.memory, h.memory_offset, temp.path()));
  MOTE_TRY_VOID(temp.commit(path));
  return fsync_directory(path);
}

}  // namespace mote
