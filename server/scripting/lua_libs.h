#pragma once
// Internal to server/scripting/*.cpp: the Lua 5.1 headers and the C libraries
// we provide ourselves (Redis embeds them; Debian packages only cjson and bit).
// Never include this from a header outside server/scripting.
#include <lua5.1/lua.hpp>

#include <cstdint>

namespace distcache::server::scripting {

// struct.pack / struct.unpack / struct.size (Roberto Ierusalimschy's "struct"
// library as embedded by Redis). Returns the table (also stored as global "struct").
int luaopen_struct(lua_State* L);

// cmsgpack.pack / unpack / unpack_one / unpack_limit (lua-cmsgpack 0.4.0 as
// embedded by Redis). Returns the table (also stored as global "cmsgpack").
int luaopen_cmsgpack(lua_State* L);

// C casts from double as redis-server (x86-64, GCC) performs them, including
// for values that do not fit, so that scripts see the same numbers:
// NaN or out of range gives INT64_MIN (cvttsd2si's "integer indefinite").
inline int64_t x86_double_to_int64(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(d);
}
// (uint64_t)d: values below 2^63 (and NaN) convert as signed, others after subtracting 2^63.
inline uint64_t x86_double_to_uint64(double d) {
  if (!(d >= 9223372036854775808.0)) return static_cast<uint64_t>(x86_double_to_int64(d));
  return static_cast<uint64_t>(x86_double_to_int64(d - 9223372036854775808.0)) ^ (uint64_t{1} << 63);
}

}  // namespace distcache::server::scripting
