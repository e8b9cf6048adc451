/* The table of guest functions: registered by name and signature, in registration order. */
#include "runtime.h"

struct mote_rt_function* mote_rt_functions;
uint32_t mote_rt_function_count;
bool mote_rt_registry_closed;
static uint32_t capacity;

static const char* const type_names[MOTE_TYPE_COUNT] = {"void", "i32", "u32",  "i64",    "u64",
                                                        "f32",  "f64", "bool", "string", "bytes"};

const char* mote_rt_type_name(uint8_t type) {
  return type < MOTE_TYPE_COUNT ? type_names[type] : "?";
}

static const char* skip_spaces(const char* s) {
  while (*s == ' ') ++s;
  return s;
}

/* Parses one type name at *s; advances past it. Returns MOTE_TYPE_COUNT when there is none. */
static uint8_t parse_type(const char** s) {
  const char* p = skip_spaces(*s);
  size_t n = 0;
  while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9')) ++n;
  for (uint8_t t = 0; t < MOTE_TYPE_COUNT; ++t) {
    if (strlen(type_names[t]) == n && memcmp(type_names[t], p, n) == 0) {
      *s = skip_spaces(p + n);
      return t;
    }
  }
  return MOTE_TYPE_COUNT;
}

/* "ret(p1,p2,...)" -> types; false when malformed. */
static bool parse_signature(const char* s, uint8_t* ret, uint8_t* params, uint32_t* count) {
  *count = 0;
  *ret = parse_type(&s);
  if (*ret == MOTE_TYPE_COUNT || *s++ != '(') return false;
  s = skip_spaces(s);
  if (*s != ')') {
    for (;;) {
      uint8_t t = parse_type(&s);
      if (t == MOTE_TYPE_COUNT || *count == MOTE_MAX_PARAMS) return false;
      params[(*count)++] = t;
      if (*s == ')') break;
      if (*s++ != ',') return false;
    }
  }
  return *skip_spaces(s + 1) == '\0';
}

int mote_register(const char* name, const char* signature, mote_handler fn) {
  uint8_t ret, params[MOTE_MAX_PARAMS];
  uint32_t count;
  if (signature == NULL || !parse_signature(signature, &ret, params, &count))
    return MOTE_REGISTER_BAD_SIGNATURE;
  return mote_register_types(name, ret, params, count, fn, NULL);
}

int mote_register_types(const char* name, uint8_t return_type, const uint8_t* param_types,
                        uint32_t param_count, mote_handler fn, void* user_data) {
  if (mote_rt_registry_closed) return MOTE_REGISTER_CLOSED;
  size_t name_size = name ? strnlen(name, MOTE_MAX_NAME + 1) : 0;
  if (name_size == 0 || name_size > MOTE_MAX_NAME) return MOTE_REGISTER_BAD_NAME;
  if (fn == NULL || return_type >= MOTE_TYPE_COUNT || param_count > MOTE_MAX_PARAMS)
    return MOTE_REGISTER_BAD_SIGNATURE;
  for (uint32_t i = 0; i < param_count; ++i)
    if (param_types[i] == MOTE_TYPE_VOID || param_types[i] >= MOTE_TYPE_COUNT)
      return MOTE_REGISTER_BAD_SIGNATURE;

  struct mote_rt_function* f = NULL;
  for (uint32_t i = 0; i < mote_rt_function_count && f == NULL; ++i)
    if (mote_rt_functions[i].name_size == name_size &&
        memcmp(mote_rt_functions[i].name, name, name_size) == 0)
      f = &mote_rt_functions[i];
  if (f == NULL) {
    if (mote_rt_function_count == MOTE_MAX_FUNCTIONS) return MOTE_REGISTER_FULL;
    if (mote_rt_function_count == capacity) {
      uint32_t grown = capacity ? capacity * 2 : 16;
      if (grown > MOTE_MAX_FUNCTIONS) grown = MOTE_MAX_FUNCTIONS;
      void* table = mote_realloc(mote_rt_functions, grown * sizeof *mote_rt_functions);
      if (table == NULL) return MOTE_REGISTER_NO_MEMORY;
      mote_rt_functions = table;
      capacity = grown;
    }
    char* copy = mote_alloc(name_size + 1);
    if (copy == NULL) return MOTE_REGISTER_NO_MEMORY;
    memcpy(copy, name, name_size + 1);
    f = &mote_rt_functions[mote_rt_function_count++];
    *f = (struct mote_rt_function){.name = copy, .name_size = (uint32_t)name_size};
  }
  f->return_type = return_type;
  f->param_count = (uint8_t)param_count;
  memset(f->param_types, 0, sizeof f->param_types);
  memcpy(f->param_types, param_types, param_count);
  f->fn = fn;
  f->user_data = user_data;
  return MOTE_REGISTER_OK;
}
