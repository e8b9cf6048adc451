/* The memory and string functions guests (and the compiler) expect; built with
 * -fno-tree-loop-distribute-patterns so GCC does not turn these loops back into calls to
 * themselves. */
#include "runtime.h"

void* memcpy(void* dst, const void* src, size_t n) {
  void* d = dst;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  if ((uintptr_t)dst - (uintptr_t)src >= n) return memcpy(dst, src, n); /* no harmful overlap */
  uint8_t* d = dst;
  const uint8_t* s = src;
  while (n--) d[n] = s[n];
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  void* d = dst;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

void* memchr(const void* s, int c, size_t n) {
  const uint8_t* p = s;
  for (size_t i = 0; i < n; ++i)
    if (p[i] == (uint8_t)c) return (void*)(p + i);
  return NULL;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

size_t strnlen(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) ++n;
  return n;
}

int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char* a, const char* b, size_t n) {
  for (; n; --n, ++a, ++b)
    if (*a != *b || !*a) return (uint8_t)*a - (uint8_t)*b;
  return 0;
}

/* Only reached if a guest is built with a stack protector after all. */
MOTE_NORETURN void __stack_chk_fail(void);
void __stack_chk_fail(void) { mote_abort(MOTE_ABORT_RUNTIME_ERROR, "stack smashing detected"); }
