/* mote_snprintf: a small allocation-free printf for messages (no floating point). */
#include "runtime.h"

struct sink {
  char* buf;
  size_t cap, len; /* len counts every character, written or not */
};

static void put(struct sink* s, char c) {
  if (s->len + 1 < s->cap) s->buf[s->len] = c;
  ++s->len;
}

/* Writes text[0..len) padded to `width`: on the right if `left`, else on the left with `pad`
 * (a '0' pad goes after a leading '-'). */
static void put_padded(struct sink* s, const char* text, size_t len, size_t width, bool left,
                       char pad) {
  size_t fill = width > len ? width - len : 0;
  if (!left && pad == '0' && len && *text == '-') put(s, *text++), --len;
  if (!left)
    while (fill) put(s, pad), --fill;
  while (len--) put(s, *text++);
  while (fill) put(s, ' '), --fill;
}

/* Formats v in `base` at the end of tmp[24]; returns where it starts. */
static char* digits(char* end, uint64_t v, unsigned base, bool upper, bool negative) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do *--end = set[v % base], v /= base;
  while (v);
  if (negative) *--end = '-';
  return end;
}

static size_t number(const char** f, va_list* ap) {
  size_t n = 0;
  if (**f == '*') {
    int v = va_arg(*ap, int);
    ++*f;
    return v < 0 ? 0 : (size_t)v;
  }
  for (; **f >= '0' && **f <= '9'; ++*f) n = n * 10 + (size_t)(**f - '0');
  return n;
}

int mote_vsnprintf(char* buf, size_t cap, const char* f, va_list ap_in) {
  struct sink s = {buf, cap, 0};
  va_list ap;
  va_copy(ap, ap_in);
  for (; *f; ++f) {
    if (*f != '%') {
      put(&s, *f);
      continue;
    }
    ++f;
    bool left = false;
    char pad = ' ';
    for (; *f == '-' || *f == '0'; ++f) *f == '-' ? (left = true) : (pad = '0');
    size_t width = number(&f, &ap);
    size_t precision = SIZE_MAX;
    if (*f == '.') ++f, precision = number(&f, &ap);
    int longs = 0; /* 0: int, 1: long or size_t, 2: long long */
    if (*f == 'z') ++f, longs = 1;
    while (*f == 'l') ++f, ++longs;
    char tmp[24], *end = tmp + sizeof tmp, *text = end;
    switch (*f) {
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
        text = digits(end, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
        text = digits(end, v, *f == 'u' ? 10 : 16, *f == 'X', false);
        break;
      }
      case 'p':
        text = digits(end, (uintptr_t)va_arg(ap, void*), 16, false, false);
        *--text = 'x';
        *--text = '0';
        break;
      case 'c':
        *--text = (char)va_arg(ap, int);
        break;
      case 's': {
        const char* str = va_arg(ap, const char*);
        if (str == NULL) str = "(null)";
        put_padded(&s, str, strnlen(str, precision), width, left, ' ');
        continue;
      }
      case '%':
        *--text = '%';
        break;
      case '\0':
        --f;
        continue; /* a lone '%' at the end */
      default:
        *--text = *f, *--text = '%';
        break;
    }
    put_padded(&s, text, (size_t)(end - text), width, left, pad);
  }
  va_end(ap);
  if (cap) buf[s.len < cap ? s.len : cap - 1] = '\0';
  return (int)s.len;
}

int mote_snprintf(char* buf, size_t cap, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf(buf, cap, format, ap);
  va_end(ap);
  return n;
}
