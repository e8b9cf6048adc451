// Snapshot metadata codec: fixed field order, little-endian, every read bounds-checked.
#include "snapshot/metadata.hpp"

#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "mote/abi.h"

namespace mote {

namespace {

constexpr char kMagic[8] = {'M', 'O', 'T', 'E', 'M', 'E', 'T', 'A'};
constexpr std::uint32_t kVersion = 1;

class Writer {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    auto v = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void bytes(std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
  std::vector<std::uint8_t> out;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  template <class T>
  bool get(T* value) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{in_[pos_ + i]} << (8 * i);
    pos_ += sizeof(T);
    *value = static_cast<T>(v);
    return true;
  }
  bool bytes(std::size_t n, std::string* out) {
    if (in_.size() - pos_ < n) return false;
    out->assign(reinterpret_cast<const char*>(in_.data()) + pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

// The layout's regions in one fixed order, for both directions.
template <class L, class F>
void for_each_region(L& layout, F&& f) {
  f(layout.gdt), f(layout.idt), f(layout.tss), f(layout.stubs), f(layout.entry_stub),
      f(layout.exception_stack), f(layout.boot_info), f(layout.image), f(layout.stack_guard),
      f(layout.stack), f(layout.heap), f(layout.input), f(layout.output), f(layout.page_tables);
}

template <class S, class F>
void for_each_segment_field(S& s, F&& f) {
  f(s.base), f(s.limit), f(s.selector), f(s.type), f(s.present), f(s.dpl), f(s.db), f(s.s), f(s.l),
      f(s.g), f(s.unusable);
}

Error invalid(std::string message) {
  return Error(ErrorKind::InvalidSnapshot, "snapshot metadata: " + std::move(message));
}

Result<void> check_layout(const Layout& l) {
  std::uint64_t previous_end = kPageSize;  // the null page stays unmapped
  bool ok = true;
  for_each_region(l, [&](const Region& r) {
    ok = ok && raw(r.base) % kPageSize == 0 && r.size % kPageSize == 0 &&
         raw(r.base) >= previous_end && r.size <= SandboxConfig::kMaxMemory &&
         raw(r.base) <= SandboxConfig::kMaxMemory;
    if (ok) previous_end = raw(r.base) + r.size;
  });
  if (!ok || l.total_size != previous_end || l.mapped_end != raw(l.page_tables.base) ||
      l.total_size > SandboxConfig::kMaxMemory || l.stack_guard.end() != l.stack.base) {
    return std::unexpected(invalid("the memory layout is inconsistent"));
  }
  return {};
}

}  // namespace

std::vector<std::uint8_t> encode_metadata(const SnapshotMetadata& m) {
  Writer w;
  w.bytes(std::string_view(kMagic, sizeof kMagic));
  w.put(kVersion);
  for_each_region(m.layout, [&](const Region& r) {
    w.put(raw(r.base));
    w.put(r.size);
  });
  w.put(m.layout.mapped_end);
  w.put(m.layout.total_size);
  for (const auto* s : {&m.cpu.code, &m.cpu.data, &m.cpu.task}) {
    for_each_segment_field(*s, [&](auto v) { w.put(v); });
  }
  w.put(m.cpu.gdt.base), w.put(m.cpu.gdt.limit), w.put(m.cpu.idt.base), w.put(m.cpu.idt.limit);
  w.put(m.cpu.cr0), w.put(m.cpu.cr3), w.put(m.cpu.cr4), w.put(m.cpu.efer);
  w.put(m.entry);
  w.put(m.abi_version);
  w.put(m.log_level);
  w.put(static_cast<std::uint8_t>(m.next));
  w.put(static_cast<std::uint32_t>(m.functions.size()));
  for (const FunctionSignature& f : m.functions) {
    w.put(static_cast<std::uint32_t>(f.name.size()));
    w.bytes(f.name);
    w.put(static_cast<std::uint8_t>(f.result));
    w.put(static_cast<std::uint8_t>(f.params.size()));
    for (ValueType p : f.params) w.put(static_cast<std::uint8_t>(p));
  }
  return std::move(w.out);
}

Result<SnapshotMetadata> decode_metadata(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  std::string magic;
  std::uint32_t version = 0;
  if (!r.bytes(sizeof kMagic, &magic) || magic != std::string_view(kMagic, sizeof kMagic)) {
    return std::unexpected(invalid("bad magic"));
  }
  if (!r.get(&version) || version != kVersion) {
    return std::unexpected(invalid(fmt::format("version {} (this host reads {})", version, kVersion)));
  }
  SnapshotMetadata m;
  bool ok = true;
  for_each_region(m.layout, [&](Region& region) {
    std::uint64_t base = 0;
    ok = ok && r.get(&base) && r.get(&region.size);
    region.base = GuestAddress{base};
  });
  ok = ok && r.get(&m.layout.mapped_end) && r.get(&m.layout.total_size);
  for (auto* s : {&m.cpu.code, &m.cpu.data, &m.cpu.task}) {
    for_each_segment_field(*s, [&](auto& v) { ok = ok && r.get(&v); });
  }
  ok = ok && r.get(&m.cpu.gdt.base) && r.get(&m.cpu.gdt.limit) && r.get(&m.cpu.idt.base) &&
       r.get(&m.cpu.idt.limit) && r.get(&m.cpu.cr0) && r.get(&m.cpu.cr3) && r.get(&m.cpu.cr4) &&
       r.get(&m.cpu.efer) && r.get(&m.entry) && r.get(&m.abi_version) && r.get(&m.log_level);
  std::uint8_t next = 0;
  std::uint32_t count = 0;
  ok = ok && r.get(&next) && r.get(&count);
  if (!ok) return std::unexpected(invalid("truncated"));
  if (next != static_cast<std::uint8_t>(NextAction::Initialise) &&
      next != static_cast<std::uint8_t>(NextAction::Call)) {
    return std::unexpected(invalid(fmt::format("unknown next action {}", next)));
  }
  m.next = static_cast<NextAction>(next);
  if (count > MOTE_MAX_FUNCTIONS || m.log_level > MOTE_LOG_OFF) {
    return std::unexpected(invalid("function count or log level out of range"));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    FunctionSignature f;
    std::uint32_t name_size = 0;
    std::uint8_t result = 0, params = 0;
    if (!r.get(&name_size) || name_size == 0 || name_size > MOTE_MAX_NAME ||
        !r.bytes(name_size, &f.name) || !r.get(&result) || !r.get(&params) ||
        result >= MOTE_TYPE_COUNT || params > MOTE_MAX_PARAMS) {
      return std::unexpected(invalid(fmt::format("function {} is malformed", i)));
    }
    f.result = static_cast<ValueType>(result);
    for (std::uint8_t p = 0; p < params; ++p) {
      std::uint8_t type = 0;
      if (!r.get(&type) || type == MOTE_TYPE_VOID || type >= MOTE_TYPE_COUNT) {
        return std::unexpected(invalid(fmt::format("function {} has a bad parameter", f.name)));
      }
      f.params.push_back(static_cast<ValueType>(type));
    }
    m.functions.push_back(std::move(f));
  }
  if (!r.done()) return std::unexpected(invalid("trailing bytes"));
  MOTE_TRY_VOID(check_layout(m.layout));
  if (!m.layout.image.contains(m.entry) || m.cpu.cr3 != raw(m.layout.page_tables.base)) {
    return std::unexpected(invalid("entry point or page-table root outside their regions"));
  }
  return m;
}

}  // namespace mote
