// The "cmsgpack" library of Redis scripts: MessagePack encoding of Lua
// values, with the API and the exact encodings of the lua-cmsgpack 0.4.0
// library that redis-server embeds (checked against redis-server 7.0.15).
// BullMQ's scripts rely on it for job options and results.
//
//   cmsgpack.pack(v1, v2, ...)            -> the encodings concatenated
//   cmsgpack.unpack(s)                    -> every value in s
//   cmsgpack.unpack_one(s [, offset])     -> next offset (-1 at the end), value
//   cmsgpack.unpack_limit(s, n [, offset])-> next offset, up to n values
//
// Encoding rules:
//   numbers that are exact 64-bit integers -> the smallest int/uint form
//   other numbers                          -> float 32 if exact, else float 64
//   strings                                -> fixstr / str8 / str16 / str32
//   tables with keys exactly 1..n          -> array (fixarray / array16 / 32)
//   other tables                           -> map (fixmap / map16 / map32)
//   booleans -> true/false; nil, functions, userdata, threads -> nil
//   tables nested deeper than 16 levels    -> nil (survives cycles)
// Decoding accepts the formats above (plus nil) and reports anything else,
// for example bin and ext types, as "Bad data format in input."
#include <cmath>
#include <cstring>
#include <string>

#include "server/scripting/lua_libs.h"

namespace distcache::server::scripting {
namespace {

constexpr int kMaxNesting = 16;

// ---------------------------------------------------------------------------
// Encoding

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void encode_integer(std::string& out, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      out.push_back(static_cast<char>(n));
    } else if (n <= 0xff) {
      out.push_back(static_cast<char>(0xcc));
      put_be(out, static_cast<uint64_t>(n), 1);
    } else if (n <= 0xffff) {
      out.push_back(static_cast<char>(0xcd));
      put_be(out, static_cast<uint64_t>(n), 2);
    } else if (n <= 0xffffffffLL) {
      out.push_back(static_cast<char>(0xce));
      put_be(out, static_cast<uint64_t>(n), 4);
    } else {
      out.push_back(static_cast<char>(0xcf));
      put_be(out, static_cast<uint64_t>(n), 8);
    }
  } else {
    if (n >= -32) {
      out.push_back(static_cast<char>(n));  // negative fixint 111xxxxx
    } else if (n >= -128) {
      out.push_back(static_cast<char>(0xd0));
      put_be(out, static_cast<uint64_t>(n), 1);
    } else if (n >= -32768) {
      out.push_back(static_cast<char>(0xd1));
      put_be(out, static_cast<uint64_t>(n), 2);
    } else if (n >= -2147483648LL) {
      out.push_back(static_cast<char>(0xd2));
      put_be(out, static_cast<uint64_t>(n), 4);
    } else {
      out.push_back(static_cast<char>(0xd3));
      put_be(out, static_cast<uint64_t>(n), 8);
    }
  }
}

void encode_double(std::string& out, double d) {
  float f = static_cast<float>(d);
  if (d == static_cast<double>(f)) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    out.push_back(static_cast<char>(0xca));
    put_be(out, bits, 4);
  } else {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    out.push_back(static_cast<char>(0xcb));
    put_be(out, bits, 8);
  }
}

void encode_number(std::string& out, lua_Number n) {
  // An exact int64 (what the C cast round-trips), infinities excluded.
  if (!std::isinf(n) && static_cast<double>(x86_double_to_int64(n)) == n)
    encode_integer(out, x86_double_to_int64(n));
  else
    encode_double(out, n);
}

void encode_string(std::string& out, const char* s, size_t len) {
  if (len < 32) {
    out.push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    out.push_back(static_cast<char>(0xd9));
    put_be(out, len, 1);
  } else if (len <= 0xffff) {
    out.push_back(static_cast<char>(0xda));
    put_be(out, len, 2);
  } else {
    out.push_back(static_cast<char>(0xdb));
    put_be(out, len, 4);
  }
  out.append(s, len);
}

void encode_container_header(std::string& out, size_t n, uint8_t fix, uint8_t op16, uint8_t op32) {
  if (n <= 15) {
    out.push_back(static_cast<char>(fix | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(op16));
    put_be(out, n, 2);
  } else {
    out.push_back(static_cast<char>(op32));
    put_be(out, n, 4);
  }
}

// (int)n as the C cast does it on x86-64 (NaN / out of range: INT_MIN).
int x86_double_to_int32(double n) {
  if (!(n >= -2147483648.0 && n < 2147483648.0)) return INT32_MIN;
  return static_cast<int>(n);
}

// Whether the table on top of the stack has exactly the keys 1..n.
bool table_is_array(lua_State* L) {
  int top = lua_gettop(L);
  int count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || std::isinf(n) ||
        static_cast<lua_Number>(x86_double_to_int32(n)) != n) {
      lua_settop(L, top);
      return false;
    }
    int k = x86_double_to_int32(n);
    if (k > max) max = k;
    ++count;
  }
  lua_settop(L, top);
  return max == count;
}

void encode_value(lua_State* L, std::string& out, int level);

void encode_table(lua_State* L, std::string& out, int level) {
  luaL_checkstack(L, 3, "in function mp_encode_lua_table");
  if (table_is_array(L)) {
    size_t len = lua_objlen(L, -1);
    encode_container_header(out, len, 0x90, 0xdc, 0xdd);
    for (size_t j = 1; j <= len; ++j) {
      lua_pushnumber(L, static_cast<lua_Number>(j));
      lua_gettable(L, -2);
      encode_value(L, out, level + 1);
    }
    return;
  }
  size_t len = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    ++len;
  }
  encode_container_header(out, len, 0x80, 0xde, 0xdf);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    encode_value(L, out, level + 1);  // key (the copy)
    encode_value(L, out, level + 1);  // value
  }
}

// Encodes the value on top of the stack and pops it.
void encode_value(lua_State* L, std::string& out, int level) {
  int t = lua_type(L, -1);
  if (t == LUA_TTABLE && level == kMaxNesting) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      encode_string(out, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      out.push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER:
      encode_number(out, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE:
      encode_table(L, out, level);
      break;
    default:
      out.push_back(static_cast<char>(0xc0));
      break;
  }
  lua_pop(L, 1);
}

int mp_pack(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  // A per-thread buffer: a Lua error (out of memory) jumps over this frame, so
  // nothing here may own memory. Encoding runs no Lua code, so it cannot nest.
  thread_local std::string out;
  out.clear();
  for (int i = 1; i <= nargs; ++i) {
    lua_pushvalue(L, i);
    encode_value(L, out, 0);
  }
  lua_pushlstring(L, out.data(), out.size());
  if (out.capacity() > (1u << 20)) std::string().swap(out);
  return 1;
}

// ---------------------------------------------------------------------------
// Decoding

enum class DecodeError { kNone, kEof, kBadFormat };

struct Cursor {
  const unsigned char* p;
  size_t left;
  DecodeError err = DecodeError::kNone;

  bool need(size_t n) {
    if (left < n) {
      err = DecodeError::kEof;
      return false;
    }
    return true;
  }
  void consume(size_t n) {
    p += n;
    left -= n;
  }
  uint64_t be(size_t offset, int bytes) const {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | p[offset + static_cast<size_t>(i)];
    return v;
  }
};

void decode_value(lua_State* L, Cursor& c);

void decode_array(lua_State* L, Cursor& c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 2, "in function mp_decode_to_lua_array");
  lua_Number index = 1;
  while (len--) {
    lua_pushnumber(L, index++);
    decode_value(L, c);
    if (c.err != DecodeError::kNone) return;
    lua_settable(L, -3);
  }
}

void decode_map(lua_State* L, Cursor& c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 2, "in function mp_decode_to_lua_hash");
  while (len--) {
    decode_value(L, c);  // key
    if (c.err != DecodeError::kNone) return;
    decode_value(L, c);  // value
    if (c.err != DecodeError::kNone) return;
    lua_settable(L, -3);
  }
}

void decode_string(lua_State* L, Cursor& c, size_t header, size_t len) {
  if (!c.need(header + len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c.p + header), len);
  c.consume(header + len);
}

// Pushes the next value (nothing on error: c.err is set).
void decode_value(lua_State* L, Cursor& c) {
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_type");
  if (!c.need(1)) return;
  const unsigned char op = c.p[0];
  switch (op) {
    case 0xcc:
      if (!c.need(2)) return;
      lua_pushnumber(L, c.p[1]);
      c.consume(2);
      return;
    case 0xd0:
      if (!c.need(2)) return;
      lua_pushnumber(L, static_cast<int8_t>(c.p[1]));
      c.consume(2);
      return;
    case 0xcd:
      if (!c.need(3)) return;
      lua_pushnumber(L, static_cast<lua_Number>(c.be(1, 2)));
      c.consume(3);
      return;
    case 0xd1:
      if (!c.need(3)) return;
      lua_pushnumber(L, static_cast<int16_t>(c.be(1, 2)));
      c.consume(3);
      return;
    case 0xce:
      if (!c.need(5)) return;
      lua_pushnumber(L, static_cast<lua_Number>(c.be(1, 4)));
      c.consume(5);
      return;
    case 0xd2:
      if (!c.need(5)) return;
      lua_pushnumber(L, static_cast<int32_t>(c.be(1, 4)));
      c.consume(5);
      return;
    case 0xcf:  // uint 64: redis-server hands it to Lua as a signed 64-bit value
    case 0xd3:
      if (!c.need(9)) return;
      lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(c.be(1, 8))));
      c.consume(9);
      return;
    case 0xc0:
      lua_pushnil(L);
      c.consume(1);
      return;
    case 0xc3:
      lua_pushboolean(L, 1);
      c.consume(1);
      return;
    case 0xc2:
      lua_pushboolean(L, 0);
      c.consume(1);
      return;
    case 0xca: {
      if (!c.need(5)) return;
      uint32_t bits = static_cast<uint32_t>(c.be(1, 4));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      lua_pushnumber(L, f);
      c.consume(5);
      return;
    }
    case 0xcb: {
      if (!c.need(9)) return;
      uint64_t bits = c.be(1, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      lua_pushnumber(L, d);
      c.consume(9);
      return;
    }
    case 0xd9:
      if (!c.need(2)) return;
      decode_string(L, c, 2, c.be(1, 1));
      return;
    case 0xda:
      if (!c.need(3)) return;
      decode_string(L, c, 3, c.be(1, 2));
      return;
    case 0xdb:
      if (!c.need(5)) return;
      decode_string(L, c, 5, c.be(1, 4));
      return;
    case 0xdc: {
      if (!c.need(3)) return;
      size_t n = c.be(1, 2);
      c.consume(3);
      decode_array(L, c, n);
      return;
    }
    case 0xdd: {
      if (!c.need(5)) return;
      size_t n = c.be(1, 4);
      c.consume(5);
      decode_array(L, c, n);
      return;
    }
    case 0xde: {
      if (!c.need(3)) return;
      size_t n = c.be(1, 2);
      c.consume(3);
      decode_map(L, c, n);
      return;
    }
    case 0xdf: {
      if (!c.need(5)) return;
      size_t n = c.be(1, 4);
      c.consume(5);
      decode_map(L, c, n);
      return;
    }
    default:
      break;
  }
  if ((op & 0x80) == 0) {  // positive fixint
    lua_pushnumber(L, op);
    c.consume(1);
  } else if ((op & 0xe0) == 0xe0) {  // negative fixint
    lua_pushnumber(L, static_cast<int8_t>(op));
    c.consume(1);
  } else if ((op & 0xe0) == 0xa0) {  // fixstr
    decode_string(L, c, 1, op & 0x1f);
  } else if ((op & 0xf0) == 0x90) {  // fixarray
    c.consume(1);
    decode_array(L, c, op & 0x0f);
  } else if ((op & 0xf0) == 0x80) {  // fixmap
    c.consume(1);
    decode_map(L, c, op & 0x0f);
  } else {
    c.err = DecodeError::kBadFormat;
  }
}

// unpack (limit 0, offset 0: everything, no offset returned), unpack_one and unpack_limit.
int unpack_full(lua_State* L, int limit, int offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool decode_all = limit == 0 && offset == 0;
  // The message reports the input length as the limit, as redis-server does.
  if (offset < 0 || limit < 0)
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset,
                      static_cast<int>(len));
  if (static_cast<size_t>(offset) > len)
    return luaL_error(L, "Start offset %d greater than input length %d.", offset, static_cast<int>(len));
  if (decode_all) limit = INT32_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - static_cast<size_t>(offset)};
  int count = 0;
  for (; c.left > 0 && count < limit; ++count) {
    decode_value(L, c);
    if (c.err == DecodeError::kEof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == DecodeError::kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : static_cast<lua_Integer>(len - c.left));
    lua_insert(L, 2);  // the offset comes first, after the input argument
    ++count;
  }
  return count;
}

int mp_unpack(lua_State* L) { return unpack_full(L, 0, 0); }

int mp_unpack_one(lua_State* L) {
  int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_pop(L, lua_gettop(L) - 1);  // only the input stays below the results
  return unpack_full(L, 1, offset);
}

int mp_unpack_limit(lua_State* L) {
  int limit = static_cast<int>(luaL_checkinteger(L, 2));
  int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return unpack_full(L, limit, offset);
}

const luaL_Reg kCmsgpackFunctions[] = {
    {"pack", mp_pack},
    {"unpack", mp_unpack},
    {"unpack_one", mp_unpack_one},
    {"unpack_limit", mp_unpack_limit},
    {nullptr, nullptr},
};

}  // namespace

int luaopen_cmsgpack(lua_State* L) {
  luaL_register(L, "cmsgpack", kCmsgpackFunctions);
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}

}  // namespace distcache::server::scripting
