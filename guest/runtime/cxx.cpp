// C++ support for guests without libstdc++: operator new/delete, std::nothrow, the __cxa_* hooks.
#include <mote/guest.h>

#include <new>

namespace {

[[noreturn]] void out_of_memory(std::size_t size) {
  mote_abortf(MOTE_STATUS_OUT_OF_MEMORY, "operator new: out of memory (%zu bytes)", size);
}

void* allocate(std::size_t size) {
  void* p = mote_alloc(size);
  if (p == nullptr) out_of_memory(size);
  return p;
}

void* allocate(std::size_t size, std::align_val_t align) {
  void* p = mote_aligned_alloc(static_cast<std::size_t>(align), size);
  if (p == nullptr) out_of_memory(size);
  return p;
}

}  // namespace

namespace std {
const nothrow_t nothrow{};
}  // namespace std

// Exceptions are off, so a failed new aborts the guest (MOTE_STATUS_OUT_OF_MEMORY) rather than
// throwing; the nothrow forms return nullptr.
void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) { return allocate(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return allocate(size, align); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return mote_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return mote_alloc(size); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return mote_aligned_alloc(static_cast<std::size_t>(align), size);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return mote_aligned_alloc(static_cast<std::size_t>(align), size);
}

void operator delete(void* p) noexcept { mote_free(p); }
void operator delete[](void* p) noexcept { mote_free(p); }
void operator delete(void* p, std::size_t) noexcept { mote_free(p); }
void operator delete[](void* p, std::size_t) noexcept { mote_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { mote_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { mote_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { mote_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { mote_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { mote_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { mote_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { mote_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { mote_free(p); }

extern "C" {

// Identifies this module to __cxa_atexit. A guest never exits, so global destructors are not
// recorded and never run.
__attribute__((visibility("hidden"))) void* __dso_handle = nullptr;

int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

[[noreturn]] void __cxa_pure_virtual() {
  mote_abort(MOTE_ABORT_RUNTIME_ERROR, "pure virtual function called");
}
[[noreturn]] void __cxa_deleted_virtual() {
  mote_abort(MOTE_ABORT_RUNTIME_ERROR, "deleted virtual function called");
}

}  // extern "C"
