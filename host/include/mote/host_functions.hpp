// HostFunctions: the registry of host functions a guest may call, with typed registration.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mote/error.hpp"
#include "mote/value.hpp"

namespace mote {

namespace detail {

template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {
  using value_type = T;
};

// Maps a host function's parameter type (as written) to the value it is built from.
template <class P>
struct HostParam {
  using Decayed = std::remove_cvref_t<P>;
  static constexpr ValueType type = ValueTypeOf<Decayed>::value;
  static const Decayed& get(const Value& v) { return std::get<Decayed>(v); }
};
template <class P>
  requires std::is_same_v<std::remove_cvref_t<P>, std::string_view>
struct HostParam<P> {
  static constexpr ValueType type = ValueType::String;
  static std::string_view get(const Value& v) { return std::get<std::string>(v); }
};
template <class P>
  requires std::is_same_v<std::remove_cvref_t<P>, std::span<const std::uint8_t>>
struct HostParam<P> {
  static constexpr ValueType type = ValueType::Bytes;
  static std::span<const std::uint8_t> get(const Value& v) { return std::get<Bytes>(v); }
};

template <class T>
struct CallableTraits : CallableTraits<decltype(&T::operator())> {};
template <class R, class... A>
struct CallableTraits<R (*)(A...)> {
  using Return = R;
  using Args = std::tuple<A...>;
};
template <class R, class... A>
struct CallableTraits<R(A...)> : CallableTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) const> : CallableTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...)> : CallableTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) const noexcept> : CallableTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) noexcept> : CallableTraits<R (*)(A...)> {};
template <class R, class... A>
struct CallableTraits<R (*)(A...) noexcept> : CallableTraits<R (*)(A...)> {};

}  // namespace detail

class HostFunctions {
 public:
  // Receives arguments already checked against the signature; returns the result value
  // (std::monostate for void) or an error whose message is passed to the guest.
  using Handler = std::function<Result<Value>(std::span<const Value> args)>;

  struct Entry {
    FunctionSignature signature;
    Handler handler;
  };

  // Registers `fn` under `name`; the signature is deduced from the callable's type. Parameters may
  // be any of int32_t, uint32_t, int64_t, uint64_t, float, double, bool, std::string,
  // std::string_view, Bytes, std::span<const uint8_t> (by value or const reference); the result
  // may be one of those value types, void, or Result<T> to report a failure to the guest.
  // Registering an existing name replaces it. The callable is copied; calls are made on the thread
  // that runs the guest call, so a callable shared between sandboxes must be thread-safe.
  template <class F>
  HostFunctions& add(std::string name, F fn);

  // Registers a handler with an explicit signature (for bindings and tools).
  HostFunctions& add_dynamic(FunctionSignature signature, Handler handler);

  // The entry registered under `name`, or nullptr.
  const Entry* find(std::string_view name) const;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> entries_;
};

template <class F>
HostFunctions& HostFunctions::add(std::string name, F fn) {
  using Traits = detail::CallableTraits<std::decay_t<F>>;
  using R = typename Traits::Return;
  using Args = typename Traits::Args;
  constexpr std::size_t arity = std::tuple_size_v<Args>;

  FunctionSignature signature;
  signature.name = name;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (signature.params.push_back(detail::HostParam<std::tuple_element_t<I, Args>>::type), ...);
  }(std::make_index_sequence<arity>{});
  if constexpr (detail::IsResult<R>::value) {
    signature.result = ValueTypeOf<typename detail::IsResult<R>::value_type>::value;
  } else {
    signature.result = ValueTypeOf<R>::value;
  }

  Handler handler = [fn = std::move(fn)](std::span<const Value> args) mutable -> Result<Value> {
    return [&]<std::size_t... I>(std::index_sequence<I...>) -> Result<Value> {
      if constexpr (detail::IsResult<R>::value) {
        auto r = fn(detail::HostParam<std::tuple_element_t<I, Args>>::get(args[I])...);
        if (!r) return std::unexpected(std::move(r).error());
        if constexpr (std::is_void_v<typename detail::IsResult<R>::value_type>) {
          return Value{};
        } else {
          return Value{std::move(r).value()};
        }
      } else if constexpr (std::is_void_v<R>) {
        fn(detail::HostParam<std::tuple_element_t<I, Args>>::get(args[I])...);
        return Value{};
      } else {
        return Value{fn(detail::HostParam<std::tuple_element_t<I, Args>>::get(args[I])...)};
      }
    }(std::make_index_sequence<arity>{});
  };
  return add_dynamic(std::move(signature), std::move(handler));
}

}  // namespace mote
