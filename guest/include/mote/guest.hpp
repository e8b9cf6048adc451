// mote guest SDK, C++ API: string and bytes types, Expected, typed registration and host calls.
//
//   mote::Expected<int32_t> divide(int32_t a, int32_t b) {
//     if (b == 0) return mote::Error(300, "division by zero");
//     return a / b;
//   }
//   int mote_main() { return mote::register_function("divide", divide); }   // "i32(i32,i32)"
//
// Freestanding: no exceptions, no RTTI, no libstdc++ runtime. Everything in guest.h is usable too.
#pragma once

#include <mote/guest.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace mote {

namespace detail {
struct Access;
}  // namespace detail

// A borrowed run of characters, not necessarily NUL-terminated. Does not own them.
class StringView {
 public:
  constexpr StringView() noexcept = default;
  constexpr StringView(const char* data, std::size_t size) noexcept : data_(data), size_(size) {}
  // A NUL-terminated string; nullptr is the empty string.
  constexpr StringView(const char* s) noexcept
      : data_(s ? s : ""), size_(s ? __builtin_strlen(s) : 0) {}

  constexpr const char* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr char operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr const char* begin() const noexcept { return data_; }
  constexpr const char* end() const noexcept { return data_ + size_; }
  friend bool operator==(StringView a, StringView b) noexcept {
    return a.size_ == b.size_ && __builtin_memcmp(a.data_, b.data_, a.size_) == 0;
  }

 private:
  const char* data_ = "";
  std::size_t size_ = 0;
};

// A borrowed run of bytes. Does not own them.
class BytesView {
 public:
  constexpr BytesView() noexcept = default;
  BytesView(const void* data, std::size_t size) noexcept
      : data_(static_cast<const std::uint8_t*>(data)), size_(size) {}

  constexpr const std::uint8_t* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr const std::uint8_t* begin() const noexcept { return data_; }
  constexpr const std::uint8_t* end() const noexcept { return data_ + size_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

namespace detail {

// An owned, growable array of T on the guest heap, always followed by a zero element (so a String
// is NUL-terminated). Running out of heap aborts the guest (MOTE_STATUS_OUT_OF_MEMORY), as
// operator new does.
template <class T>
class HeapArray {
 public:
  HeapArray() noexcept = default;
  HeapArray(const T* data, std::size_t size) { append(data, size); }
  HeapArray(const HeapArray& o) : HeapArray(o.data_, o.size_) {}
  HeapArray(HeapArray&& o) noexcept : data_(o.data_), size_(o.size_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.size_ = o.capacity_ = 0;
  }
  HeapArray& operator=(HeapArray o) noexcept {  // copy or move, then swap
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~HeapArray() { mote_free(data_); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept { resize(0); }

  // Room for `capacity` elements without reallocating.
  void reserve(std::size_t capacity) {
    if (capacity <= capacity_) return;
    if (capacity < 2 * capacity_) capacity = 2 * capacity_;
    T* grown = static_cast<T*>(mote_realloc(data_, (capacity + 1) * sizeof(T)));
    if (grown == nullptr)
      mote_abortf(MOTE_STATUS_OUT_OF_MEMORY, "out of memory growing a buffer to %zu bytes",
                  (capacity + 1) * sizeof(T));
    data_ = grown;
    capacity_ = capacity;
  }
  // New elements are zero.
  void resize(std::size_t size) {
    reserve(size);
    if (data_ == nullptr) return;
    for (std::size_t i = size_; i <= size; ++i) data_[i] = T();
    size_ = size;
    data_[size_] = T();
  }
  // `data` may point into this array.
  void append(const T* data, std::size_t size) {
    if (size == 0) return;
    if (data >= data_ && data < data_ + size_) {
      HeapArray copy(data, size);
      return append(copy.data_, size);
    }
    reserve(size_ + size);
    __builtin_memcpy(data_ + size_, data, size * sizeof(T));
    size_ += size;
    data_[size_] = T();
  }

 protected:
  // Takes ownership of `data` (from mote_alloc, size + 1 elements, or nullptr).
  static HeapArray adopt(T* data, std::size_t size) noexcept {
    HeapArray a;
    a.data_ = data;
    a.size_ = a.capacity_ = data ? size : 0;
    return a;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  // elements, not counting the trailing zero
};

}  // namespace detail

// An owned, growable, NUL-terminated string on the guest heap (copyable, movable).
class String : public detail::HeapArray<char> {
 public:
  String() noexcept = default;
  explicit String(StringView s) : HeapArray(s.data(), s.size()) {}
  // Takes ownership of `data`: from mote_alloc, data[size] == '\0' (e.g. a mote_host_result's).
  static String adopt(char* data, std::size_t size) noexcept {
    return String(HeapArray::adopt(data, size));
  }

  const char* c_str() const noexcept { return data_ ? data_ : ""; }
  const char* data() const noexcept { return c_str(); }
  char* data() noexcept { return data_; }  // nullptr while empty and unallocated
  StringView view() const noexcept { return {c_str(), size_}; }
  operator StringView() const noexcept { return view(); }

  String& append(StringView s) { return HeapArray::append(s.data(), s.size()), *this; }
  String& append(char c) { return HeapArray::append(&c, 1), *this; }
  String& operator+=(StringView s) { return append(s); }
  String& operator+=(char c) { return append(c); }
  friend String operator+(String a, StringView b) { return std::move(a.append(b)); }
  friend String operator+(String a, char c) { return std::move(a.append(c)); }

 private:
  explicit String(HeapArray&& a) noexcept : HeapArray(std::move(a)) {}
};

// An owned, growable byte buffer on the guest heap (copyable, movable).
class Bytes : public detail::HeapArray<std::uint8_t> {
 public:
  Bytes() noexcept = default;
  explicit Bytes(BytesView b) : HeapArray(b.data(), b.size()) {}
  // Takes ownership of `data`: from mote_alloc, size + 1 bytes (e.g. a mote_host_result's).
  static Bytes adopt(void* data, std::size_t size) noexcept {
    return Bytes(HeapArray::adopt(static_cast<std::uint8_t*>(data), size));
  }

  const std::uint8_t* data() const noexcept { return data_; }
  std::uint8_t* data() noexcept { return data_; }
  std::uint8_t& operator[](std::size_t i) noexcept { return data_[i]; }
  std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }
  BytesView view() const noexcept { return {data_, size_}; }
  operator BytesView() const noexcept { return view(); }

  Bytes& append(BytesView b) { return HeapArray::append(b.data(), b.size()), *this; }
  Bytes& push_back(std::uint8_t b) { return HeapArray::append(&b, 1), *this; }
  // Appends the in-memory (little-endian) bytes of a scalar.
  template <class T>
  requires std::is_arithmetic_v<T> Bytes& append_le(T value) {
    return HeapArray::append(reinterpret_cast<const std::uint8_t*>(&value), sizeof value), *this;
  }

 private:
  explicit Bytes(HeapArray&& a) noexcept : HeapArray(std::move(a)) {}
};

// printf into a new String (the formats of mote_snprintf).
MOTE_PRINTF(1, 2) inline String format(const char* fmt, ...) {
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  String s;
  if (int n = mote_vsnprintf(nullptr, 0, fmt, ap); n > 0) {
    s.resize(static_cast<std::size_t>(n));
    mote_vsnprintf(s.data(), s.size() + 1, fmt, again);
  }
  va_end(again);
  va_end(ap);
  return s;
}

// An error: a status code and a message. A guest function makes its own with a code >=
// MOTE_STATUS_USER_BASE (returning a smaller one aborts the guest). An error from call_host keeps
// the host's code, whatever it is, and may be returned unchanged.
class Error {
 public:
  Error(std::uint32_t code, StringView message) : code_(code), message_(message) {}

  std::uint32_t code() const noexcept { return code_; }
  StringView message() const noexcept { return message_; }
  bool from_host() const noexcept { return from_host_; }

 private:
  friend struct detail::Access;
  Error(std::uint32_t code, String message, bool from_host)
      : code_(code), message_(std::move(message)), from_host_(from_host) {}
  std::uint32_t code_;
  String message_;
  bool from_host_ = false;
};

// A T or an Error. value() and error() on the wrong alternative abort the guest.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : ok_(true) { ::new (&value_) T(std::move(value)); }
  Expected(Error error) : ok_(false) { ::new (&error_) Error(std::move(error)); }
  Expected(const Expected& o) : ok_(o.ok_) {
    if (ok_)
      ::new (&value_) T(o.value_);
    else
      ::new (&error_) Error(o.error_);
  }
  Expected(Expected&& o) noexcept : ok_(o.ok_) {
    if (ok_)
      ::new (&value_) T(std::move(o.value_));
    else
      ::new (&error_) Error(std::move(o.error_));
  }
  Expected& operator=(Expected o) noexcept {
    this->~Expected();
    return *::new (this) Expected(std::move(o));
  }
  ~Expected() {
    if (ok_)
      value_.~T();
    else
      error_.~Error();
  }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  T& value() & { return check(), value_; }
  const T& value() const& { return check(), value_; }
  T&& value() && { return check(), std::move(value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    if (ok_) mote_abort(MOTE_ABORT_RUNTIME_ERROR, "Expected::error() called on a value");
    return error_;
  }

 private:
  void check() const {
    if (!ok_)
      mote_abortf(MOTE_ABORT_RUNTIME_ERROR, "Expected::value() called on error %u: %.*s",
                  error_.code(), static_cast<int>(error_.message().size()),
                  error_.message().data());
  }
  union {
    T value_;
    Error error_;
  };
  bool ok_;
};

// Success without a value, or an Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() noexcept : ok_(true) {}
  Expected(Error error) : ok_(false) { ::new (&error_) Error(std::move(error)); }
  Expected(const Expected& o) : ok_(o.ok_) {
    if (!ok_) ::new (&error_) Error(o.error_);
  }
  Expected(Expected&& o) noexcept : ok_(o.ok_) {
    if (!ok_) ::new (&error_) Error(std::move(o.error_));
  }
  Expected& operator=(Expected o) noexcept {
    this->~Expected();
    return *::new (this) Expected(std::move(o));
  }
  ~Expected() {
    if (!ok_) error_.~Error();
  }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const {
    if (ok_) mote_abort(MOTE_ABORT_RUNTIME_ERROR, "Expected::error() called on a value");
    return error_;
  }

 private:
  union {
    char none_;
    Error error_;
  };
  bool ok_;
};

namespace detail {

template <class T>
inline constexpr std::uint8_t type_of = MOTE_TYPE_COUNT;  // unsupported
template <>
inline constexpr std::uint8_t type_of<void> = MOTE_TYPE_VOID;
template <>
inline constexpr std::uint8_t type_of<std::int32_t> = MOTE_TYPE_I32;
template <>
inline constexpr std::uint8_t type_of<std::uint32_t> = MOTE_TYPE_U32;
template <>
inline constexpr std::uint8_t type_of<std::int64_t> = MOTE_TYPE_I64;
template <>
inline constexpr std::uint8_t type_of<std::uint64_t> = MOTE_TYPE_U64;
template <>
inline constexpr std::uint8_t type_of<float> = MOTE_TYPE_F32;
template <>
inline constexpr std::uint8_t type_of<double> = MOTE_TYPE_F64;
template <>
inline constexpr std::uint8_t type_of<bool> = MOTE_TYPE_BOOL;
template <>
inline constexpr std::uint8_t type_of<StringView> = MOTE_TYPE_STRING;
template <>
inline constexpr std::uint8_t type_of<String> = MOTE_TYPE_STRING;
template <>
inline constexpr std::uint8_t type_of<BytesView> = MOTE_TYPE_BYTES;
template <>
inline constexpr std::uint8_t type_of<Bytes> = MOTE_TYPE_BYTES;

template <class T>
struct Unwrap {
  using type = T;
};
template <class T>
struct Unwrap<Expected<T>> {
  using type = T;
};
template <class T>
inline constexpr bool is_expected = false;
template <class T>
inline constexpr bool is_expected<Expected<T>> = true;

// A guest function's parameter: a scalar or a view (borrowed for the call).
template <class T>
inline constexpr bool valid_param = type_of<T> != MOTE_TYPE_COUNT&& type_of<T> != MOTE_TYPE_VOID &&
                                    !std::is_same_v<T, String> && !std::is_same_v<T, Bytes>;

struct Access {
  static Error host_error(mote_host_result& r) {
    return Error(r.status, String::adopt(r.data, r.data ? r.size : 0), true);
  }
};

template <class T>
T get_arg(const mote_args* a, std::uint32_t i) {
  if constexpr (std::is_same_v<T, std::int32_t>)
    return mote_arg_i32(a, i);
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return mote_arg_u32(a, i);
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return mote_arg_i64(a, i);
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return mote_arg_u64(a, i);
  else if constexpr (std::is_same_v<T, float>)
    return mote_arg_f32(a, i);
  else if constexpr (std::is_same_v<T, double>)
    return mote_arg_f64(a, i);
  else if constexpr (std::is_same_v<T, bool>)
    return mote_arg_bool(a, i);
  else if constexpr (std::is_same_v<T, StringView>) {
    std::size_t n;
    const char* s = mote_arg_string(a, i, &n);
    return StringView(s, n);
  } else {
    std::size_t n;
    const std::uint8_t* p = mote_arg_bytes(a, i, &n);
    return BytesView(p, n);
  }
}

inline void set_error(mote_ret* ret, const Error& e) {
  if (e.from_host()) {  // passed on unchanged, whatever its code
    mote_host_result r{};
    r.status = e.code();
    r.data = const_cast<char*>(e.message().data());
    r.size = e.message().size();
    mote_ret_host_result(ret, &r);
  } else {
    mote_ret_error_n(ret, e.code(), e.message().data(), e.message().size());
  }
}

template <class T>
void set_result(mote_ret* ret, const T& v) {
  if constexpr (is_expected<T>) {
    if (!v)
      set_error(ret, v.error());
    else if constexpr (!std::is_void_v<typename Unwrap<T>::type>)
      set_result(ret, *v);
  } else if constexpr (std::is_same_v<T, std::int32_t>)
    mote_ret_i32(ret, v);
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    mote_ret_u32(ret, v);
  else if constexpr (std::is_same_v<T, std::int64_t>)
    mote_ret_i64(ret, v);
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    mote_ret_u64(ret, v);
  else if constexpr (std::is_same_v<T, float>)
    mote_ret_f32(ret, v);
  else if constexpr (std::is_same_v<T, double>)
    mote_ret_f64(ret, v);
  else if constexpr (std::is_same_v<T, bool>)
    mote_ret_bool(ret, v);
  else if constexpr (type_of<T> == MOTE_TYPE_STRING)
    mote_ret_string(ret, v.data(), v.size());
  else
    mote_ret_bytes(ret, v.data(), v.size());
}

// Calls the registered callable (kept at mote_user_data) with the decoded arguments.
template <class Fn, class R, class... A>
struct Thunk {
  static void call(const mote_args* args, mote_ret* ret) {
    invoke(*static_cast<Fn*>(mote_user_data(args)), args, ret, std::index_sequence_for<A...>{});
  }
  template <std::size_t... I>
  static void invoke(Fn& fn, const mote_args* args, mote_ret* ret, std::index_sequence<I...>) {
    if constexpr (std::is_void_v<R>)
      fn(get_arg<std::remove_cvref_t<A>>(args, I)...);
    else
      set_result(ret, fn(get_arg<std::remove_cvref_t<A>>(args, I)...));
  }
};

// The function type R(A...) of a function pointer or a (non-generic) callable object.
template <class F>
struct Signature : Signature<decltype(&F::operator())> {};
template <class R, class... A>
struct Signature<R (*)(A...)> {
  using type = R(A...);
};
template <class R, class... A>
struct Signature<R (*)(A...) noexcept> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...)> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) noexcept> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const noexcept> {
  using type = R(A...);
};

template <class Fn, class Sig>
struct Registrar;
template <class Fn, class R, class... A>
struct Registrar<Fn, R(A...)> {
  static int add(const char* name, Fn fn) {
    static_assert((valid_param<std::remove_cvref_t<A>> && ...),
                  "guest function parameters must be int32_t, uint32_t, int64_t, uint64_t, float, "
                  "double, bool, mote::StringView or mote::BytesView");
    static_assert(type_of<typename Unwrap<R>::type> != MOTE_TYPE_COUNT,
                  "guest functions return void, a parameter type, mote::String, mote::Bytes, or "
                  "mote::Expected of one of those");
    const std::uint8_t params[sizeof...(A) + 1] = {type_of<std::remove_cvref_t<A>>..., 0};
    Fn* kept = new Fn(std::move(fn));
    int rc = mote_register_types(name, type_of<typename Unwrap<R>::type>, params, sizeof...(A),
                                 &Thunk<Fn, R, A...>::call, kept);
    if (rc != MOTE_REGISTER_OK) delete kept;
    return rc;
  }
};

template <class T>
mote_value_in to_value_in(const T& v) {
  if constexpr (std::is_same_v<T, std::int32_t>)
    return mote_in_i32(v);
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return mote_in_u32(v);
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return mote_in_i64(v);
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return mote_in_u64(v);
  else if constexpr (std::is_same_v<T, float>)
    return mote_in_f32(v);
  else if constexpr (std::is_same_v<T, double>)
    return mote_in_f64(v);
  else if constexpr (std::is_same_v<T, bool>)
    return mote_in_bool(v);
  else if constexpr (std::is_convertible_v<const T&, StringView>) {
    StringView s = v;
    return mote_in_string(s.data(), s.size());
  } else if constexpr (std::is_convertible_v<const T&, BytesView>) {
    BytesView b = v;
    return mote_in_bytes(b.data(), b.size());
  } else {
    static_assert(!sizeof(T),
                  "host call arguments must be int32_t, uint32_t, int64_t, uint64_t, "
                  "float, double, bool, a string (const char*, StringView, String) or "
                  "bytes (BytesView, Bytes)");
  }
}

}  // namespace detail

// Registers `fn` (a function, function pointer or non-generic lambda) under `name` (NUL-terminated,
// copied), with the signature deduced from its type: parameters int32_t uint32_t int64_t uint64_t
// float double bool mote::StringView mote::BytesView (views borrowed for the call); result one of
// those, mote::String, mote::Bytes, void, or mote::Expected<any of them>. A copy of `fn` is kept
// for the guest's lifetime. Call from mote_main. Returns a MOTE_REGISTER_* value.
template <class F>
int register_function(const char* name, F&& fn) {
  using Fn = std::decay_t<F>;
  return detail::Registrar<Fn, typename detail::Signature<Fn>::type>::add(name,
                                                                          std::forward<F>(fn));
}

// Calls the host function `name` (NUL-terminated) with `args`, expecting an R: void, a scalar
// (int32_t ... bool), mote::String or mote::Bytes. Arguments: the scalars, const char*,
// StringView, String, BytesView, Bytes (copied into the request). On failure the Error carries the
// host's code and message (or a local failure, see mote_call_host) and may be returned unchanged.
template <class R, class... A>
Expected<R> call_host(const char* name, const A&... args) {
  static_assert(
      detail::type_of<R> != MOTE_TYPE_COUNT && !std::is_same_v<R, StringView> &&
          !std::is_same_v<R, BytesView>,
      "call_host returns void, int32_t, uint32_t, int64_t, uint64_t, float, double, bool, "
      "mote::String or mote::Bytes");
  const mote_value_in in[sizeof...(A) + 1] = {detail::to_value_in(args)..., mote_value_in{}};
  mote_host_result r;
  if (mote_call_host(name, detail::type_of<R>, in, sizeof...(A), &r) != MOTE_STATUS_OK)
    return detail::Access::host_error(r);
  if constexpr (std::is_void_v<R>)
    return {};
  else if constexpr (std::is_same_v<R, String>)
    return String::adopt(r.data, r.size);
  else if constexpr (std::is_same_v<R, Bytes>)
    return Bytes::adopt(r.data, r.size);
  else if constexpr (std::is_same_v<R, std::int32_t>)
    return r.as.i32;
  else if constexpr (std::is_same_v<R, std::uint32_t>)
    return r.as.u32;
  else if constexpr (std::is_same_v<R, std::int64_t>)
    return r.as.i64;
  else if constexpr (std::is_same_v<R, std::uint64_t>)
    return r.as.u64;
  else if constexpr (std::is_same_v<R, float>)
    return r.as.f32;
  else if constexpr (std::is_same_v<R, double>)
    return r.as.f64;
  else
    return r.as.b;
}

// Sends a log record (see mote_log); the message is copied.
inline void log(std::uint32_t level, StringView message) {
  mote_log_n(level, message.data(), message.size());
}

// Stops the guest for good (see mote_abort).
[[noreturn]] inline void abort(std::uint32_t code, StringView message) {
  mote_abort_n(code, message.data(), message.size());
}

}  // namespace mote
