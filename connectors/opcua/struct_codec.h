#pragma once
// Structures described as data. A structure lists its fields once, in wire order:
//
//   struct ReadValueId {
//     static constexpr std::string_view kName = "ReadValueId";
//     NodeId node_id; std::uint32_t attribute_id = 13; ...
//     static constexpr auto fields() {
//       return std::tuple{field("NodeId", &ReadValueId::node_id), ...};
//     }
//   };
//
// and one generic encoder/decoder walks that table, dispatching each member to the built-in
// codec, to std::vector (UA arrays: Int32 count, -1 = null), to Int32 enumerations, or to a nested
// described structure. A decode error names the path: "Results[2].Value.Variant at offset 57: ...".
// PubSub UADP (DataSetMessages, NetworkMessage headers) reuses the same machinery.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "connectors/opcua/binary.h"
#include "connectors/opcua/builtin_codec.h"

namespace resonance::opcua {

template <typename S, typename T>
struct Field {
  std::string_view name;
  T S::*member;
};
template <typename S, typename T>
constexpr Field<S, T> field(std::string_view name, T S::*member) {
  return {name, member};
}

template <typename T>
concept Described = requires {
  { T::kName } -> std::convertible_to<std::string_view>;
  T::fields();
};
// UA enumerations are Int32 on the wire; ours declare `: std::int32_t`.
template <typename E>
concept UaEnum = std::is_enum_v<E> && std::is_same_v<std::underlying_type_t<E>, std::int32_t>;

// Declarations first, so each template sees every other overload at its definition.
template <UaEnum E> void encode(Writer& w, E v);
template <UaEnum E> Status decode(Reader& r, E& v);
template <typename T> void encode(Writer& w, const std::vector<T>& v);
template <typename T> Status decode(Reader& r, std::vector<T>& v);
template <Described S> void encode(Writer& w, const S& s);
template <Described S> Status decode(Reader& r, S& s);

template <UaEnum E>
void encode(Writer& w, E v) {
  w.i32(static_cast<std::int32_t>(v));
}
template <UaEnum E>
Status decode(Reader& r, E& v) {
  std::int32_t x = 0;
  if (auto s = decode(r, x); !s) return s;
  v = static_cast<E>(x);  // unknown values are kept; the caller decides what they mean
  return Status::ok();
}

template <typename T>
void encode(Writer& w, const std::vector<T>& v) {
  w.i32(static_cast<std::int32_t>(v.size()));
  for (const auto& x : v) encode(w, x);
}
template <typename T>
Status decode(Reader& r, std::vector<T>& v) {
  auto n = r.array_length("ArrayLength", 1);
  if (!n) return n.error();
  if (auto s = r.charge("ArrayLength", *n, sizeof(T)); !s) return s;
  v.clear();
  v.resize(*n);
  for (std::size_t i = 0; i < *n; ++i) {
    if (auto s = decode(r, v[i]); !s) return with_context(std::move(s), "[" + std::to_string(i) + "]");
  }
  return Status::ok();
}

// Field-wise equality for every described structure (found by ADL, so std::vector and
// std::variant of them compare too).
template <Described S>
bool operator==(const S& a, const S& b) {
  return std::apply([&](const auto&... f) { return ((a.*(f.member) == b.*(f.member)) && ...); },
                    S::fields());
}

template <Described S>
void encode(Writer& w, const S& s) {
  std::apply([&](const auto&... f) { (encode(w, s.*(f.member)), ...); }, S::fields());
}
template <Described S>
Status decode(Reader& r, S& s) {
  Status st;
  std::apply(
      [&](const auto&... f) {
        (void)((st = decode(r, s.*(f.member)),
                st.is_ok() ? true : (st = with_context(std::move(st), f.name), false)) &&
               ...);
      },
      S::fields());
  return st;
}

}  // namespace resonance::opcua
