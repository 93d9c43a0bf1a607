// The "struct" library of Redis scripts: binary packing of numbers and
// strings. Same API, format language and error messages as the struct 0.2
// library redis-server embeds (checked against redis-server 7.0.15):
//
//   struct.pack(fmt, v1, v2, ...) -> string
//   struct.unpack(fmt, s [, init]) -> v1, v2, ..., next position
//   struct.size(fmt) -> bytes (formats of fixed size only)
//
// Format characters: '>' big endian, '<' little endian (the default is the
// machine's, little endian), '![n]' maximum alignment n (a power of 2; 8
// without n), 'x' one zero byte, 'b'/'B' signed/unsigned char, 'h'/'H' short,
// 'l'/'L' long (8 bytes), 'T' size_t, 'i[n]'/'I[n]' integers of n bytes (4
// by default, at most 32), 'f' float, 'd' double, 's' zero-terminated string,
// 'c[n]' n bytes (pack 'c0': the whole string; unpack 'c0': the length is the
// previous value), ' ' ignored.
#include <cctype>
#include <climits>
#include <cstring>

#include "server/scripting/lua_libs.h"

namespace distcache::server::scripting {
namespace {

constexpr int kMaxIntSize = 32;
constexpr int kMaxAlign = 8;  // the strictest alignment of a native scalar

struct Header {
  bool big_endian = false;
  int align = 1;
};

bool is_power_of_2(int x) { return (x & (x - 1)) == 0; }

// Reads an optional decimal count after an option character.
int read_count(lua_State* L, const char** fmt, int absent) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return absent;
  int n = 0;
  do {
    int digit = **fmt - '0';
    if (n > INT_MAX / 10 || n * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
    n = n * 10 + digit;
    ++*fmt;
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return n;
}

// Size of the data of option `opt` (0 for options without data or of variable size).
size_t option_size(lua_State* L, int opt, const char** fmt) {
  switch (opt) {
    case 'b':
    case 'B':
      return 1;
    case 'h':
    case 'H':
      return sizeof(short);
    case 'l':
    case 'L':
      return sizeof(long);
    case 'T':
      return sizeof(size_t);
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return static_cast<size_t>(read_count(L, fmt, 1));
    case 'i':
    case 'I': {
      int n = read_count(L, fmt, sizeof(int));
      if (n > kMaxIntSize) luaL_error(L, "integral size %d is larger than limit of %d", n, kMaxIntSize);
      return static_cast<size_t>(n);
    }
    default:
      return 0;
  }
}

// Padding bytes needed before an item of `size` at offset `len`.
size_t padding(size_t len, const Header& h, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  size_t align = size > static_cast<size_t>(h.align) ? static_cast<size_t>(h.align) : size;
  return (align - (len & (align - 1))) & (align - 1);
}

// Options without data: endianness, alignment, spaces; anything else is an error.
void control_option(lua_State* L, int opt, const char** fmt, Header& h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h.big_endian = true;
      return;
    case '<':
      h.big_endian = false;
      return;
    case '!': {
      int a = read_count(L, fmt, kMaxAlign);
      if (!is_power_of_2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
      h.align = a;
      return;
    }
    default: {
      const char* msg = lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, msg);
    }
  }
}

// Native (little endian) byte order to the requested one, in place.
void fix_byte_order(char* p, size_t size, bool big_endian) {
  if (!big_endian) return;
  for (size_t i = 0, j = size - 1; i < j; ++i, --j) {
    char t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

void pack_integer(lua_State* L, luaL_Buffer* b, int arg, bool big_endian, size_t size) {
  lua_Number n = luaL_checknumber(L, arg);
  uint64_t value = n < 0 ? static_cast<uint64_t>(x86_double_to_int64(n)) : x86_double_to_uint64(n);
  char bytes[kMaxIntSize];
  for (size_t i = 0; i < size; ++i) {
    bytes[big_endian ? size - 1 - i : i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  luaL_addlstring(b, bytes, size);
}

lua_Number unpack_integer(const char* p, bool big_endian, bool is_signed, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) {
    v <<= 8;
    v |= static_cast<unsigned char>(p[big_endian ? i : size - 1 - i]);
  }
  if (!is_signed) return static_cast<lua_Number>(v);
  // Sign extension from the top bit of the item; for items wider than 8 bytes
  // the shift count wraps modulo 64 as on the hardware redis-server runs on.
  uint64_t mask = ~uint64_t{0} << ((size * 8 - 1) & 63);
  if (v & mask) v |= mask;
  return static_cast<lua_Number>(static_cast<int64_t>(v));
}

int struct_pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t total = 0;
  lua_pushnil(L);  // separates the arguments from the buffer's stack slots
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    size_t pad = padding(total, h, opt, size);
    total += pad;
    while (pad-- > 0) luaL_addchar(&b, '\0');
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        pack_integer(L, &b, arg++, h.big_endian, size);
        break;
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f': {
        float f = static_cast<float>(luaL_checknumber(L, arg++));
        char bytes[sizeof f];
        std::memcpy(bytes, &f, sizeof f);
        fix_byte_order(bytes, sizeof f, h.big_endian);
        luaL_addlstring(&b, bytes, sizeof f);
        break;
      }
      case 'd': {
        double d = luaL_checknumber(L, arg++);
        char bytes[sizeof d];
        std::memcpy(bytes, &d, sizeof d);
        fix_byte_order(bytes, sizeof d, h.big_endian);
        luaL_addlstring(&b, bytes, sizeof d);
        break;
      }
      case 'c':
      case 's': {
        size_t len;
        const char* s = luaL_checklstring(L, arg++, &len);
        if (size == 0) size = len;
        luaL_argcheck(L, len >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          ++size;
        }
        break;
      }
      default:
        control_option(L, opt, &fmt, h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

int struct_unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t len;
  const char* data = luaL_checklstring(L, 2, &len);
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  Header h;
  int results = 0;
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    pos += padding(pos, h, opt, size);
    luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        lua_pushnumber(L, unpack_integer(data + pos, h.big_endian, std::islower(opt) != 0, size));
        ++results;
        break;
      case 'x':
        break;
      case 'f': {
        char bytes[sizeof(float)];
        std::memcpy(bytes, data + pos, sizeof bytes);
        fix_byte_order(bytes, sizeof bytes, h.big_endian);
        float f;
        std::memcpy(&f, bytes, sizeof f);
        lua_pushnumber(L, f);
        ++results;
        break;
      }
      case 'd': {
        char bytes[sizeof(double)];
        std::memcpy(bytes, data + pos, sizeof bytes);
        fix_byte_order(bytes, sizeof bytes, h.big_endian);
        double d;
        std::memcpy(&d, bytes, sizeof d);
        lua_pushnumber(L, d);
        ++results;
        break;
      }
      case 'c': {
        if (size == 0) {
          if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
          size = static_cast<size_t>(x86_double_to_uint64(lua_tonumber(L, -1)));
          lua_pop(L, 1);
          --results;
          luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        ++results;
        break;
      }
      case 's': {
        const void* end = std::memchr(data + pos, '\0', len - pos);
        if (end == nullptr) luaL_error(L, "unfinished string in data");
        size = static_cast<size_t>(static_cast<const char*>(end) - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        ++results;
        break;
      }
      default:
        control_option(L, opt, &fmt, h);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return results + 1;
}

int struct_size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  size_t pos = 0;
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    pos += padding(pos, h, opt, size);
    if (opt == 's')
      luaL_argerror(L, 1, "option 's' has no fixed size");
    else if (opt == 'c' && size == 0)
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    if (!std::isalnum(opt)) control_option(L, opt, &fmt, h);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

const luaL_Reg kStructFunctions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {nullptr, nullptr},
};

}  // namespace

int luaopen_struct(lua_State* L) {
  luaL_register(L, "struct", kStructFunctions);
  return 1;
}

}  // namespace distcache::server::scripting
