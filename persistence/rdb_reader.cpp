// RDB reading: see rdb_reader.h. Internally, every problem with the input
// is thrown (Corrupt / Truncated / IoError) and caught at the API boundary,
// so the decoding code reads straight through without error plumbing.
#include "persistence/rdb_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liblzf/lzf.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "storage/hash_value.h"
#include "storage/list.h"
#include "storage/numbers.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace distcache::persistence {

using storage::StreamID;
using storage::Value;
using storage::ValueType;

namespace {

struct Corrupt {
  std::string what;
};
struct Truncated {};
struct IoError {
  std::string what;
};

[[noreturn]] void corrupt(std::string what) { throw Corrupt{std::move(what)}; }

inline uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
inline uint64_t load_be(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
// Sign-extends the low `bits` bits of v.
inline int64_t sign_extend(uint64_t v, unsigned bits) {
  const uint64_t m = uint64_t{1} << (bits - 1);
  v &= (m << 1) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}

// LZF expands at most 88x (a 3-byte back-reference copies 264 bytes); a
// declared length beyond this bound cannot be genuine.
constexpr uint64_t kMaxLzfRatio = 88;
// With a source of unknown size, strings longer than this are read in
// pieces of this size, so a bogus length cannot allocate much up front.
constexpr uint64_t kUnknownSizeChunk = 16u << 20;

// ---------------------------------------------------------------------------
// Input: bounds-checked reading from memory or from a buffered RdbSource,
// with the running CRC-64 of the bytes consumed.

class Input {
 public:
  Input(std::string_view mem, bool track_crc)
      : p_(reinterpret_cast<const uint8_t*>(mem.data())),
        end_(p_ + mem.size()),
        base_(p_),
        crc_from_(p_),
        track_crc_(track_crc) {}

  Input(RdbSource& src, size_t buffer_bytes, bool track_crc)
      : src_(&src), cap_(std::max<size_t>(buffer_bytes, 64 * 1024)), track_crc_(track_crc) {
    buf_ = std::make_unique<uint8_t[]>(cap_);
    p_ = end_ = base_ = crc_from_ = buf_.get();
  }

  bool memory() const { return src_ == nullptr; }
  uint64_t offset() const { return window_offset_ + static_cast<uint64_t>(p_ - base_); }

  // Bytes left in the input, when known.
  std::optional<uint64_t> remaining() const {
    const uint64_t buffered = static_cast<uint64_t>(end_ - p_);
    if (memory()) return buffered;
    auto r = src_->remaining();
    if (!r) return std::nullopt;
    return *r + buffered;
  }

  uint8_t byte() {
    if (p_ == end_) fill(1);
    return *p_++;
  }

  // Pointer to the next n (small: <= 64 KiB) bytes, which are consumed.
  // Valid until the next read.
  const uint8_t* take(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) fill(n);
    const uint8_t* r = p_;
    p_ += n;
    return r;
  }

  // In memory mode: a view of the next n bytes (valid for the input's life).
  std::string_view view(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) throw Truncated{};
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }

  void read(void* dst, size_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    const size_t avail = static_cast<size_t>(end_ - p_);
    if (n <= avail) {
      if (n) std::memcpy(d, p_, n);
      p_ += n;
      return;
    }
    if (memory()) throw Truncated{};
    if (avail) std::memcpy(d, p_, avail);
    p_ += avail;
    d += avail;
    n -= avail;
    if (n < cap_ / 2) {
      fill(n);
      std::memcpy(d, p_, n);
      p_ += n;
      return;
    }
    // Big reads bypass the buffer.
    update_crc();
    const uint64_t at = offset();
    size_t got = 0;
    while (got < n) {
      const ptrdiff_t r = src_->read(reinterpret_cast<char*>(d + got), n - got);
      if (r < 0) throw IoError{src_->error()};
      if (r == 0) throw Truncated{};
      got += static_cast<size_t>(r);
    }
    if (track_crc_) crc_ = crc64(crc_, d, n);
    window_offset_ = at + n;
    p_ = end_ = base_ = crc_from_ = buf_.get();
  }

  // Throws Truncated when fewer than n bytes can possibly follow.
  void check_available(uint64_t n) const {
    auto r = remaining();
    if (r && n > *r) throw Truncated{};
  }

  // CRC-64 of every byte consumed so far.
  uint64_t crc() {
    update_crc();
    return crc_;
  }

 private:
  void update_crc() {
    if (track_crc_ && p_ > crc_from_) crc_ = crc64(crc_, crc_from_, static_cast<size_t>(p_ - crc_from_));
    crc_from_ = p_;
  }

  // Makes at least n bytes available at p_ (n <= cap_).
  void fill(size_t n) {
    if (memory()) throw Truncated{};
    update_crc();
    const size_t keep = static_cast<size_t>(end_ - p_);
    window_offset_ += static_cast<uint64_t>(p_ - base_);
    if (keep && p_ != buf_.get()) std::memmove(buf_.get(), p_, keep);
    p_ = base_ = crc_from_ = buf_.get();
    end_ = p_ + keep;
    while (static_cast<size_t>(end_ - p_) < n) {
      const ptrdiff_t r = src_->read(reinterpret_cast<char*>(const_cast<uint8_t*>(end_)),
                                     cap_ - static_cast<size_t>(end_ - buf_.get()));
      if (r < 0) throw IoError{src_->error()};
      if (r == 0) throw Truncated{};
      end_ += r;
    }
  }

  RdbSource* src_ = nullptr;
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* base_ = nullptr;      // start of the window (offset window_offset_)
  const uint8_t* crc_from_ = nullptr;  // bytes [crc_from_, p_) are not in crc_ yet
  uint64_t window_offset_ = 0;
  uint64_t crc_ = 0;
  bool track_crc_ = false;
};

// ---------------------------------------------------------------------------
// RDB primitives on an Input

uint64_t read_len_raw(Input& in, bool& encoded) {
  encoded = false;
  const uint8_t b = in.byte();
  switch (b >> 6) {
    case 0: return b & 0x3F;
    case 1: return (static_cast<uint64_t>(b & 0x3F) << 8) | in.byte();
    case 3: encoded = true; return b & 0x3F;
    default: break;
  }
  if (b == rdb::kLen32Bit) return load_be(in.take(4), 4);
  if (b == rdb::kLen64Bit) return load_be(in.take(8), 8);
  corrupt("unknown length encoding " + std::to_string(b));
}

uint64_t read_len(Input& in) {
  bool encoded;
  const uint64_t v = read_len_raw(in, encoded);
  if (encoded) corrupt("encoded value where a length was expected");
  return v;
}

int64_t read_millis(Input& in) { return static_cast<int64_t>(load_le(in.take(8), 8)); }

// A string's header: the length of a plain string, an integer, or the
// lengths of an LZF-compressed string.
struct StrHeader {
  enum Kind { kPlain, kInt, kLzf } kind = kPlain;
  uint64_t len = 0;   // plain: bytes; LZF: uncompressed bytes
  uint64_t clen = 0;  // LZF: compressed bytes
  int64_t ival = 0;
};

StrHeader read_str_header(Input& in) {
  StrHeader h;
  bool encoded;
  const uint64_t v = read_len_raw(in, encoded);
  if (!encoded) {
    h.len = v;
    in.check_available(v);
    return h;
  }
  switch (v) {
    case rdb::kEncInt8:
      h.kind = StrHeader::kInt;
      h.ival = static_cast<int8_t>(in.byte());
      return h;
    case rdb::kEncInt16:
      h.kind = StrHeader::kInt;
      h.ival = static_cast<int16_t>(load_le(in.take(2), 2));
      return h;
    case rdb::kEncInt32:
      h.kind = StrHeader::kInt;
      h.ival = static_cast<int32_t>(load_le(in.take(4), 4));
      return h;
    case rdb::kEncLzf:
      h.kind = StrHeader::kLzf;
      h.clen = read_len(in);
      h.len = read_len(in);
      if (h.len == 0 || h.clen == 0 || h.len > UINT32_MAX || h.clen > UINT32_MAX ||
          h.len > h.clen * kMaxLzfRatio + 16)
        corrupt("invalid LZF string lengths");
      in.check_available(h.clen);
      return h;
    default: corrupt("unknown string encoding " + std::to_string(v));
  }
}

// Whether LZF data (liblzf's format) is well formed and expands to exactly
// `expected` bytes: every back-reference within the output so far. Checked
// before the output is allocated, so a bogus length allocates nothing.
bool lzf_well_formed(const uint8_t* p, size_t n, uint64_t expected) {
  uint64_t out = 0;
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i++];
    if (c < 32) {  // literal run of c + 1 bytes
      const size_t run = c + 1;
      if (run > n - i) return false;
      i += run;
      out += run;
    } else {  // back-reference: length (c >> 5) + 2, offset 13 bits + 1
      size_t len = c >> 5;
      if (i >= n) return false;
      if (len == 7) {
        len += p[i++];
        if (i >= n) return false;
      }
      const uint64_t offset = (uint64_t{c & 0x1Fu} << 8) + p[i++] + 1;
      if (offset > out) return false;
      out += len + 2;
    }
    if (out > expected) return false;
  }
  return out == expected;
}

// Reads the LZF payload of `h`, checks it, then decompresses it into the
// buffer get_out(h.len) returns.
template <class GetOut>
void read_lzf(Input& in, const StrHeader& h, std::string& cbuf, GetOut&& get_out) {
  const char* src;
  if (in.memory()) {
    src = in.view(h.clen).data();
  } else {
    cbuf.resize(h.clen);
    in.read(cbuf.data(), h.clen);
    src = cbuf.data();
  }
  if (!lzf_well_formed(reinterpret_cast<const uint8_t*>(src), h.clen, h.len))
    corrupt("invalid LZF compressed string");
  char* out = get_out(h.len);
  if (lzf_decompress(src, static_cast<unsigned>(h.clen), out, static_cast<unsigned>(h.len)) != h.len)
    corrupt("invalid LZF compressed string");
}

// Reads n plain bytes into a growable string target, in pieces when the
// input size is unknown.
template <class Resize>
void read_plain_into(Input& in, uint64_t n, Resize&& resize_and_get) {
  if (n <= kUnknownSizeChunk || in.remaining()) {
    char* p = resize_and_get(n);
    in.read(p, n);
    return;
  }
  uint64_t got = 0;
  while (got < n) {
    const uint64_t step = std::min(n - got, kUnknownSizeChunk);
    char* p = resize_and_get(got + step);
    in.read(p + got, step);
    got += step;
  }
}

// A string as a view: into the input (memory mode) or into `scratch`.
// Valid until `scratch` or the input is used again.
std::string_view read_string(Input& in, std::string& scratch, std::string& cbuf) {
  const StrHeader h = read_str_header(in);
  switch (h.kind) {
    case StrHeader::kInt: {
      char buf[storage::kInt64StrSize];
      scratch.assign(buf, storage::format_int64(h.ival, buf));
      return scratch;
    }
    case StrHeader::kLzf:
      read_lzf(in, h, cbuf, [&](uint64_t n) {
        scratch.resize(n);
        return scratch.data();
      });
      return scratch;
    case StrHeader::kPlain:
      if (in.memory()) return in.view(h.len);
      read_plain_into(in, h.len, [&](uint64_t n) {
        scratch.resize(n);
        return scratch.data();
      });
      return scratch;
  }
  return {};
}

// A string copied into `out` (std::string or CompactString).
template <class Out>
void read_string_to(Input& in, Out& out, std::string& cbuf) {
  const StrHeader h = read_str_header(in);
  switch (h.kind) {
    case StrHeader::kInt: {
      char buf[storage::kInt64StrSize];
      out.assign(std::string_view(buf, storage::format_int64(h.ival, buf)));
      return;
    }
    case StrHeader::kLzf:
      read_lzf(in, h, cbuf, [&](uint64_t n) {
        if constexpr (std::is_same_v<Out, std::string>) {
          out.resize(n);
          return out.data();
        } else {
          out.resize_exact(n);  // values are stored with no room to grow (as SET stores them)
          return out.mutable_data();
        }
      });
      return;
    case StrHeader::kPlain:
      if (in.memory()) {
        out.assign(in.view(h.len));
        return;
      }
      if constexpr (std::is_same_v<Out, std::string>) {
        read_plain_into(in, h.len, [&](uint64_t n) {
          out.resize(n);
          return out.data();
        });
      } else {
        if (h.len > kUnknownSizeChunk && !in.remaining()) {
          // Rare (a stream of unknown size): stage in a std::string.
          std::string tmp;
          read_plain_into(in, h.len, [&](uint64_t n) {
            tmp.resize(n);
            return tmp.data();
          });
          out.assign(tmp);
        } else {
          out.resize_exact(h.len);
          in.read(out.mutable_data(), h.len);
        }
      }
      return;
  }
}

StreamID read_raw_stream_id(Input& in) {
  const uint8_t* p = in.take(rdb::kStreamIdBytes);
  return StreamID{load_be(p, 8), load_be(p + 8, 8)};
}

// ---------------------------------------------------------------------------
// Compact blobs: listpack, ziplist, zipmap, intset. Each parser validates
// the whole blob and appends its elements.

struct Elem {
  const char* s = nullptr;
  size_t len = 0;
  int64_t v = 0;
  bool is_int = false;

  // The element's text; integers are written into buf (kInt64StrSize bytes).
  std::string_view view(char* buf) const {
    if (!is_int) return {s, len};
    return {buf, storage::format_int64(v, buf)};
  }
};

Elem str_elem(const uint8_t* p, size_t len) {
  Elem e;
  e.s = reinterpret_cast<const char*>(p);
  e.len = len;
  return e;
}
Elem int_elem(int64_t v) {
  Elem e;
  e.v = v;
  e.is_int = true;
  return e;
}

void parse_listpack(std::string_view blob, std::vector<Elem>& out) {
  namespace lp = rdb::listpack;
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  const size_t size = blob.size();
  if (size < lp::kHeaderSize + 1) corrupt("listpack too short");
  if (load_le(p, 4) != size) corrupt("listpack size mismatch");
  const uint64_t header_count = load_le(p + 4, 2);
  const uint8_t* q = p + lp::kHeaderSize;
  const uint8_t* last = p + size - 1;  // the terminator
  if (*last != lp::kEof) corrupt("listpack not terminated");
  uint64_t n = 0;
  while (q < last) {
    const size_t room = static_cast<size_t>(last - q);
    auto need = [&](uint64_t k) {
      if (k > room) corrupt("listpack entry out of bounds");
    };
    const uint8_t b = *q;
    uint64_t enclen;
    Elem e;
    if (b < 0x80) {
      e = int_elem(b);
      enclen = 1;
    } else if ((b & 0xC0) == lp::k6BitStr) {
      enclen = 1 + uint64_t{b & 0x3Fu};
      need(enclen);
      e = str_elem(q + 1, b & 0x3F);
    } else if ((b & 0xE0) == lp::k13BitInt) {
      need(2);
      e = int_elem(sign_extend((uint64_t{b & 0x1Fu} << 8) | q[1], 13));
      enclen = 2;
    } else if ((b & 0xF0) == lp::k12BitStr) {
      need(2);
      const uint64_t len = (uint64_t{b & 0x0Fu} << 8) | q[1];
      enclen = 2 + len;
      need(enclen);
      e = str_elem(q + 2, len);
    } else {
      switch (b) {
        case lp::k32BitStr: {
          need(5);
          const uint64_t len = load_le(q + 1, 4);
          enclen = 5 + len;
          need(enclen);
          e = str_elem(q + 5, len);
          break;
        }
        case lp::k16BitInt: need(3); e = int_elem(sign_extend(load_le(q + 1, 2), 16)); enclen = 3; break;
        case lp::k24BitInt: need(4); e = int_elem(sign_extend(load_le(q + 1, 3), 24)); enclen = 4; break;
        case lp::k32BitInt: need(5); e = int_elem(sign_extend(load_le(q + 1, 4), 32)); enclen = 5; break;
        case lp::k64BitInt: need(9); e = int_elem(static_cast<int64_t>(load_le(q + 1, 8))); enclen = 9; break;
        default: corrupt("invalid listpack entry encoding");
      }
    }
    // The back-length: the highest 7-bit group first (high bit clear), the
    // others with the high bit set.
    const size_t bl = lp::backlen_size(enclen);
    need(enclen + bl);
    const uint8_t* bp = q + enclen;
    uint64_t back = 0;
    for (size_t i = 0; i < bl; ++i) {
      if (((bp[i] & 0x80) != 0) != (i != 0)) corrupt("invalid listpack back-length");
      back = (back << 7) | (bp[i] & 0x7F);
    }
    if (back != enclen) corrupt("listpack back-length mismatch");
    out.push_back(e);
    q += enclen + bl;
    ++n;
  }
  if (header_count != lp::kUnknownCount && header_count != n) corrupt("listpack entry count mismatch");
}

void parse_ziplist(std::string_view blob, std::vector<Elem>& out) {
  namespace zl = rdb::ziplist;
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  const size_t size = blob.size();
  if (size < zl::kHeaderSize + 1) corrupt("ziplist too short");
  if (load_le(p, 4) != size) corrupt("ziplist size mismatch");
  const uint64_t tail = load_le(p + 4, 4);
  const uint64_t header_count = load_le(p + 8, 2);
  const uint8_t* end = p + size - 1;
  if (*end != zl::kEnd) corrupt("ziplist not terminated");
  const uint8_t* q = p + zl::kHeaderSize;
  uint64_t prev_len = 0, n = 0;
  uint64_t last_off = zl::kHeaderSize;
  while (q < end) {
    const size_t room = static_cast<size_t>(end - q);
    auto need = [&](uint64_t k) {
      if (k > room) corrupt("ziplist entry out of bounds");
    };
    uint64_t prevlen, plen;
    if (q[0] < zl::kBigPrevLen) {
      prevlen = q[0];
      plen = 1;
    } else if (q[0] == zl::kBigPrevLen) {
      need(5);
      prevlen = load_le(q + 1, 4);
      plen = 5;
    } else {
      corrupt("invalid ziplist prevlen");
    }
    if (prevlen != prev_len) corrupt("ziplist prevlen mismatch");
    need(plen + 1);
    const uint8_t* r = q + plen;
    const uint8_t b = r[0];
    uint64_t hdr, data;
    Elem e;
    switch (b >> 6) {
      case 0:
        hdr = 1;
        data = b & 0x3F;
        break;
      case 1:
        need(plen + 2);
        hdr = 2;
        data = (uint64_t{b & 0x3Fu} << 8) | r[1];
        break;
      case 2:
        if (b != 0x80) corrupt("invalid ziplist string encoding");
        need(plen + 5);
        hdr = 5;
        data = load_be(r + 1, 4);
        break;
      default:
        hdr = 1;
        switch (b) {
          case 0xC0: data = 2; break;  // int16
          case 0xD0: data = 4; break;  // int32
          case 0xE0: data = 8; break;  // int64
          case 0xF0: data = 3; break;  // int24
          case 0xFE: data = 1; break;  // int8
          default:
            if (b >= 0xF1 && b <= 0xFD) {
              data = 0;  // immediate 0..12
              break;
            }
            corrupt("invalid ziplist entry encoding");
        }
        break;
    }
    need(plen + hdr + data);
    if ((b >> 6) != 3) {
      e = str_elem(r + hdr, data);
    } else {
      const uint8_t* d = r + 1;
      switch (b) {
        case 0xC0: e = int_elem(sign_extend(load_le(d, 2), 16)); break;
        case 0xD0: e = int_elem(sign_extend(load_le(d, 4), 32)); break;
        case 0xE0: e = int_elem(static_cast<int64_t>(load_le(d, 8))); break;
        case 0xF0: e = int_elem(sign_extend(load_le(d, 3), 24)); break;
        case 0xFE: e = int_elem(static_cast<int8_t>(d[0])); break;
        default: e = int_elem(static_cast<int64_t>(b & 0x0F) - 1); break;
      }
    }
    out.push_back(e);
    last_off = static_cast<uint64_t>(q - p);
    prev_len = plen + hdr + data;
    q += prev_len;
    ++n;
  }
  if (tail != last_off) corrupt("ziplist tail offset mismatch");
  if (header_count != zl::kUnknownCount && header_count != n) corrupt("ziplist entry count mismatch");
}

// Appends field, value, field, value, ...
void parse_zipmap(std::string_view blob, std::vector<Elem>& out) {
  namespace zm = rdb::zipmap;
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  const uint8_t* end = p + blob.size();
  if (blob.size() < 2) corrupt("zipmap too short");
  const uint64_t header_count = p[0];
  const uint8_t* q = p + 1;
  auto need = [&](uint64_t k) {
    if (k > static_cast<uint64_t>(end - q)) corrupt("zipmap entry out of bounds");
  };
  auto read_len = [&]() -> uint64_t {
    need(1);
    const uint8_t b = *q;
    if (b < zm::kBigLen) {
      ++q;
      return b;
    }
    if (b == zm::kEnd) corrupt("zipmap entry without value");
    need(5);
    const uint64_t v = load_le(q + 1, 4);
    q += 5;
    return v;
  };
  uint64_t n = 0;
  while (true) {
    need(1);
    if (*q == zm::kEnd) {
      ++q;
      break;
    }
    const uint64_t flen = read_len();
    need(flen);
    out.push_back(str_elem(q, flen));
    q += flen;
    const uint64_t vlen = read_len();
    need(1);
    const uint64_t free = *q++;
    need(vlen + free);
    out.push_back(str_elem(q, vlen));
    q += vlen + free;
    ++n;
  }
  if (q != end) corrupt("zipmap has trailing bytes");
  if (header_count < zm::kBigLen && header_count != n) corrupt("zipmap entry count mismatch");
}

// Validates an intset; returns its width and count.
void check_intset(std::string_view blob, unsigned& width, size_t& count) {
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  if (blob.size() < rdb::intset::kHeaderSize) corrupt("intset too short");
  const uint64_t w = load_le(p, 4);
  if (w != 2 && w != 4 && w != 8) corrupt("invalid intset encoding");
  const uint64_t n = load_le(p + 4, 4);
  if (rdb::intset::kHeaderSize + n * w != blob.size()) corrupt("intset size mismatch");
  if (n == 0) corrupt("empty intset");
  width = static_cast<unsigned>(w);
  count = static_cast<size_t>(n);
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = sign_extend(load_le(p + rdb::intset::kHeaderSize + i * w, w), static_cast<unsigned>(w * 8));
    if (i > 0 && v <= prev) corrupt("intset not sorted or has duplicates");
    prev = v;
  }
}

int64_t intset_at(std::string_view blob, unsigned width, size_t i) {
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data()) + rdb::intset::kHeaderSize + i * width;
  return sign_extend(load_le(p, width), width * 8);
}

// ---------------------------------------------------------------------------
// Value decoding

class Decoder {
 public:
  Decoder(Input& in, const RdbValueLimits& limits) : in_(in), lim_(limits) {}

  // Throws on corruption. Returns false for an empty collection.
  bool read_object(uint8_t type, Value& out);

 private:
  std::string_view str1() { return read_string(in_, s1_, cbuf_); }
  std::string_view str2() { return read_string(in_, s2_, cbuf_); }
  double read_text_double();
  // Expected element count for a declared length, for reservations: bounded
  // by the input left (each element takes at least `min_bytes`) and by a
  // fixed cap, since the declared length is not trusted (bigger values grow).
  size_t bounded(uint64_t n, uint64_t min_bytes) const {
    auto r = in_.remaining();
    uint64_t cap = uint64_t{1} << 20;
    if (r) cap = std::min(cap, *r / min_bytes);
    return static_cast<size_t>(std::min(n, cap));
  }

  bool read_list_linked(Value& out);
  bool read_set(Value& out);
  bool read_zset(uint8_t type, Value& out);
  bool read_hash(Value& out);
  bool read_hash_pairs_blob(uint8_t type, Value& out);
  bool read_list_ziplist(Value& out);
  bool read_intset(Value& out);
  bool read_zset_blob(uint8_t type, Value& out);
  bool read_quicklist(uint8_t type, Value& out);
  void read_stream(uint8_t type, Value& out);

  Input& in_;
  const RdbValueLimits& lim_;
  std::string s1_, s2_, cbuf_;
  std::vector<Elem> elems_;
  std::vector<std::string_view> views_;
  std::vector<std::string_view> fv_;
  std::string arena_;
};

double elem_double(const Elem& e) {
  if (e.is_int) return static_cast<double>(e.v);
  double d;
  if (!storage::parse_double(std::string_view(e.s, e.len), d)) corrupt("invalid sorted set score");
  return d;
}

bool elem_int(const Elem& e, int64_t& out) {
  if (e.is_int) {
    out = e.v;
    return true;
  }
  return storage::parse_int64(std::string_view(e.s, e.len), out);
}

double Decoder::read_text_double() {
  const uint8_t len = in_.byte();
  switch (len) {
    case 253: corrupt("sorted set score is NaN");
    case 254: return HUGE_VAL;
    case 255: return -HUGE_VAL;
    default: break;
  }
  char buf[256];
  in_.read(buf, len);
  buf[len] = '\0';
  double d;
  if (storage::parse_double(std::string_view(buf, len), d)) return d;
  char* endp = nullptr;
  d = std::strtod(buf, &endp);
  if (endp == buf || std::isnan(d)) corrupt("invalid sorted set score");
  return d;
}

bool Decoder::read_object(uint8_t type, Value& out) {
  switch (type) {
    case rdb::kTypeString: {
      Value v;
      read_string_to(in_, v.mutable_str(), cbuf_);
      out = std::move(v);
      return true;
    }
    case rdb::kTypeList: return read_list_linked(out);
    case rdb::kTypeSet: return read_set(out);
    case rdb::kTypeZSet:
    case rdb::kTypeZSet2: return read_zset(type, out);
    case rdb::kTypeHash: return read_hash(out);
    case rdb::kTypeHashZipmap:
    case rdb::kTypeHashZiplist:
    case rdb::kTypeHashListpack: return read_hash_pairs_blob(type, out);
    case rdb::kTypeListZiplist: return read_list_ziplist(out);
    case rdb::kTypeSetIntset: return read_intset(out);
    case rdb::kTypeZSetZiplist:
    case rdb::kTypeZSetListpack: return read_zset_blob(type, out);
    case rdb::kTypeListQuicklist:
    case rdb::kTypeListQuicklist2: return read_quicklist(type, out);
    case rdb::kTypeStreamListpacks:
    case rdb::kTypeStreamListpacks2: read_stream(type, out); return true;
    case rdb::kTypeModulePreGA:
    case rdb::kTypeModule2: corrupt("module values are not supported");
    default: corrupt("unknown object type " + std::to_string(type));
  }
}

bool Decoder::read_list_linked(Value& out) {
  const uint64_t n = read_len(in_);
  if (n == 0) return false;
  auto list = std::make_unique<storage::List>(lim_.list_fill);
  for (uint64_t i = 0; i < n; ++i) list->push_back(str1());
  out = Value::collection(ValueType::kList, std::move(list));
  return true;
}

bool Decoder::read_set(Value& out) {
  const uint64_t n = read_len(in_);
  if (n == 0) return false;
  auto set = std::make_unique<storage::SetValue>();
  if (n > lim_.set_max_intset_entries) set->convert_to_hashtable(bounded(n, 1));
  for (uint64_t i = 0; i < n; ++i)
    if (!set->add(str1(), lim_.set_max_intset_entries)) corrupt("duplicate set members");
  out = Value::collection(ValueType::kSet, std::move(set));
  return true;
}

bool Decoder::read_zset(uint8_t type, Value& out) {
  using storage::ZSetValue;
  const uint64_t n = read_len(in_);
  if (n == 0) return false;
  auto z = std::make_unique<ZSetValue>(n > lim_.zset.max_listpack_entries ? ZSetValue::Encoding::kSkiplist
                                                                           : ZSetValue::Encoding::kListpack);
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view member = str1();
    double score;
    if (type == rdb::kTypeZSet2) {
      const uint64_t bits = load_le(in_.take(8), 8);
      std::memcpy(&score, &bits, 8);
    } else {
      score = read_text_double();
    }
    if (std::isnan(score)) corrupt("sorted set score is NaN");
    if (z->add(score, member, 0, lim_.zset) != ZSetValue::AddResult::kAdded) corrupt("duplicate sorted set members");
  }
  out = Value::collection(ValueType::kZSet, std::move(z));
  return true;
}

bool Decoder::read_hash(Value& out) {
  const uint64_t n = read_len(in_);
  if (n == 0) return false;
  auto h = std::make_unique<storage::HashValue>();
  if (n > lim_.hash.max_listpack_entries) h->convert_to_hashtable();
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view f = str1();
    const std::string_view v = str2();
    if (!h->set(f, v, lim_.hash)) corrupt("duplicate hash fields");
  }
  out = Value::collection(ValueType::kHash, std::move(h));
  return true;
}

bool Decoder::read_hash_pairs_blob(uint8_t type, Value& out) {
  const std::string_view blob = str1();
  elems_.clear();
  storage::HashLimits limits = lim_.hash;
  if (type == rdb::kTypeHashZipmap) {
    parse_zipmap(blob, elems_);  // converts for long strings too
  } else {
    if (type == rdb::kTypeHashZiplist)
      parse_ziplist(blob, elems_);
    else
      parse_listpack(blob, elems_);
    // Listpacks and ziplists convert on their entry count only.
    limits.max_listpack_value = SIZE_MAX;
  }
  if (elems_.size() % 2 != 0) corrupt("hash blob with an odd number of elements");
  if (elems_.empty()) return false;
  auto h = std::make_unique<storage::HashValue>();
  char b1[storage::kInt64StrSize], b2[storage::kInt64StrSize];
  for (size_t i = 0; i < elems_.size(); i += 2)
    if (!h->set(elems_[i].view(b1), elems_[i + 1].view(b2), limits)) corrupt("duplicate hash fields");
  out = Value::collection(ValueType::kHash, std::move(h));
  return true;
}

bool Decoder::read_list_ziplist(Value& out) {
  const std::string_view blob = str1();
  elems_.clear();
  parse_ziplist(blob, elems_);
  if (elems_.empty()) return false;
  auto list = std::make_unique<storage::List>(lim_.list_fill);
  char buf[storage::kInt64StrSize];
  for (const Elem& e : elems_) list->push_back(e.view(buf));
  out = Value::collection(ValueType::kList, std::move(list));
  return true;
}

bool Decoder::read_intset(Value& out) {
  const std::string_view blob = str1();
  unsigned width;
  size_t count;
  check_intset(blob, width, count);
  auto set = std::make_unique<storage::SetValue>();
  if (count > lim_.set_max_intset_entries) set->convert_to_hashtable(count);
  char buf[storage::kInt64StrSize];
  for (size_t i = 0; i < count; ++i) {
    const int64_t v = intset_at(blob, width, i);
    set->add(std::string_view(buf, storage::format_int64(v, buf)), lim_.set_max_intset_entries);
  }
  out = Value::collection(ValueType::kSet, std::move(set));
  return true;
}

bool Decoder::read_zset_blob(uint8_t type, Value& out) {
  using storage::ZSetValue;
  const std::string_view blob = str1();
  elems_.clear();
  if (type == rdb::kTypeZSetZiplist)
    parse_ziplist(blob, elems_);
  else
    parse_listpack(blob, elems_);
  if (elems_.size() % 2 != 0) corrupt("sorted set blob with an odd number of elements");
  if (elems_.empty()) return false;
  // Blobs convert on their entry count only (a long member stays compact).
  storage::ZSetLimits limits{lim_.zset.max_listpack_entries, SIZE_MAX};
  auto z = std::make_unique<ZSetValue>(elems_.size() / 2 > limits.max_listpack_entries
                                           ? ZSetValue::Encoding::kSkiplist
                                           : ZSetValue::Encoding::kListpack);
  char buf[storage::kInt64StrSize];
  for (size_t i = 0; i < elems_.size(); i += 2) {
    const double score = elem_double(elems_[i + 1]);
    if (std::isnan(score)) corrupt("sorted set score is NaN");
    if (z->add(score, elems_[i].view(buf), 0, limits) != ZSetValue::AddResult::kAdded)
      corrupt("duplicate sorted set members");
  }
  out = Value::collection(ValueType::kZSet, std::move(z));
  return true;
}

bool Decoder::read_quicklist(uint8_t type, Value& out) {
  const uint64_t nodes = read_len(in_);
  auto list = std::make_unique<storage::List>(lim_.list_fill);
  char buf[storage::kInt64StrSize];
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t container = rdb::kQuicklistNodePacked;
    if (type == rdb::kTypeListQuicklist2) {
      container = read_len(in_);
      if (container != rdb::kQuicklistNodePacked && container != rdb::kQuicklistNodePlain)
        corrupt("invalid quicklist node container");
    }
    const std::string_view blob = str1();
    if (container == rdb::kQuicklistNodePlain) {
      list->push_back(blob);
      continue;
    }
    elems_.clear();
    if (type == rdb::kTypeListQuicklist2)
      parse_listpack(blob, elems_);
    else
      parse_ziplist(blob, elems_);
    for (const Elem& e : elems_) list->push_back(e.view(buf));  // empty nodes are skipped, as Redis does
  }
  if (list->empty()) return false;
  out = Value::collection(ValueType::kList, std::move(list));
  return true;
}

void Decoder::read_stream(uint8_t type, Value& out) {
  using storage::StreamGroup;
  using storage::StreamValue;
  auto sv = std::make_unique<StreamValue>();
  StreamValue& s = *sv;
  const uint64_t nodes = read_len(in_);
  bool any = false;
  StreamID prev;  // the highest ID seen so far (masters and entries)
  for (uint64_t i = 0; i < nodes; ++i) {
    const std::string_view key = str1();
    if (key.size() != rdb::kStreamIdBytes) corrupt("stream node key is not a stream ID");
    const auto* kp = reinterpret_cast<const uint8_t*>(key.data());
    const StreamID master{load_be(kp, 8), load_be(kp + 8, 8)};
    if (any && master <= prev) corrupt("stream nodes out of order");
    prev = master;
    any = true;

    const std::string_view blob = str2();
    elems_.clear();
    parse_listpack(blob, elems_);
    if (elems_.empty()) corrupt("empty listpack inside stream");
    // Text of every element (integers rendered into arena_).
    size_t ints = 0;
    for (const Elem& e : elems_) ints += e.is_int;
    arena_.resize(ints * storage::kInt64StrSize + storage::kInt64StrSize);
    char* ap = arena_.data();
    views_.clear();
    for (const Elem& e : elems_) {
      const std::string_view v = e.view(ap);
      if (e.is_int) ap += v.size();
      views_.push_back(v);
    }

    size_t k = 0;
    const size_t total = elems_.size();
    auto next_int = [&]() -> int64_t {
      int64_t v;
      if (k >= total || !elem_int(elems_[k], v)) corrupt("invalid stream listpack");
      ++k;
      return v;
    };
    auto next_count = [&]() -> size_t {
      const int64_t v = next_int();
      if (v < 0 || static_cast<uint64_t>(v) > total - k) corrupt("invalid stream listpack count");
      return static_cast<size_t>(v);
    };
    const int64_t live = next_int();
    const int64_t dead = next_int();
    const size_t nmaster = next_count();
    const size_t master_at = k;
    k += nmaster;
    if (next_int() != 0) corrupt("invalid stream master entry");
    s.load_block(master, views_.data() + master_at, nmaster);

    int64_t seen_live = 0, seen_dead = 0;
    while (k < total) {
      const int64_t flags = next_int();
      if (flags & ~(rdb::kStreamFlagDeleted | rdb::kStreamFlagSameFields)) corrupt("invalid stream entry flags");
      const uint64_t ms_diff = static_cast<uint64_t>(next_int());
      const uint64_t seq_diff = static_cast<uint64_t>(next_int());
      const StreamID id{master.ms + ms_diff, master.seq + seq_diff};
      if (id < master || (id <= prev && !(id == master && seen_live + seen_dead == 0)))
        corrupt("stream entries out of order");
      prev = id;
      fv_.clear();
      size_t nf;
      if (flags & rdb::kStreamFlagSameFields) {
        nf = nmaster;
        if (nf > total - k) corrupt("invalid stream entry");
        for (size_t j = 0; j < nf; ++j) {
          fv_.push_back(views_[master_at + j]);
          fv_.push_back(views_[k++]);
        }
      } else {
        nf = next_count();
        if (nf > (total - k) / 2) corrupt("invalid stream entry");
        for (size_t j = 0; j < 2 * nf; ++j) fv_.push_back(views_[k++]);
      }
      const int64_t expected = static_cast<int64_t>(flags & rdb::kStreamFlagSameFields ? nf + 3 : 2 * nf + 4);
      if (next_int() != expected) corrupt("invalid stream entry count");
      const bool deleted = flags & rdb::kStreamFlagDeleted;
      s.load_entry(id, deleted, fv_.data(), nf);
      (deleted ? seen_dead : seen_live)++;
    }
    if (seen_live != live || seen_dead != dead) corrupt("stream node entry counts mismatch");
  }

  const uint64_t length = read_len(in_);
  StreamID last_id;
  last_id.ms = read_len(in_);
  last_id.seq = read_len(in_);
  StreamID first_id, max_deleted;
  uint64_t entries_added;
  if (type == rdb::kTypeStreamListpacks2) {
    first_id.ms = read_len(in_);
    first_id.seq = read_len(in_);
    max_deleted.ms = read_len(in_);
    max_deleted.seq = read_len(in_);
    entries_added = read_len(in_);
  } else {
    first_id = s.length() ? s.first_valid_id() : StreamID{};
    entries_added = length;
  }
  if (length != s.length()) corrupt("stream length does not match its entries");
  if (any && last_id < prev) corrupt("stream last ID below its entries");
  s.set_last_id(last_id);
  s.set_first_id(first_id);
  s.set_max_deleted_id(max_deleted);
  s.set_entries_added(entries_added);

  const uint64_t ngroups = read_len(in_);
  for (uint64_t g = 0; g < ngroups; ++g) {
    const std::string_view name = str1();
    StreamID glast;
    glast.ms = read_len(in_);
    glast.seq = read_len(in_);
    int64_t entries_read;
    if (type == rdb::kTypeStreamListpacks2)
      entries_read = static_cast<int64_t>(read_len(in_));
    else
      entries_read = s.estimate_distance_from_first_ever_entry(glast);
    StreamGroup* group = s.create_group(name, glast, entries_read);
    if (!group) corrupt("duplicate consumer group name");
    const uint64_t npel = read_len(in_);
    for (uint64_t i = 0; i < npel; ++i) {
      const StreamID id = read_raw_stream_id(in_);
      const int64_t delivery_time = read_millis(in_);
      const uint64_t delivery_count = read_len(in_);
      auto [it, inserted] = group->pel.try_emplace(id);
      if (!inserted) corrupt("duplicate consumer group PEL entry");
      it->second.delivery_time = delivery_time;
      it->second.delivery_count = delivery_count;
    }
    const uint64_t nconsumers = read_len(in_);
    for (uint64_t c = 0; c < nconsumers; ++c) {
      const std::string_view cname = str1();
      const int64_t seen = read_millis(in_);
      storage::StreamConsumer* consumer = group->create_consumer(cname, seen);
      if (!consumer) corrupt("duplicate consumer name");
      consumer->seen_time = seen;
      const uint64_t n = read_len(in_);
      for (uint64_t i = 0; i < n; ++i) {
        const StreamID id = read_raw_stream_id(in_);
        auto it = group->pel.find(id);
        if (it == group->pel.end()) corrupt("consumer PEL entry missing from the group PEL");
        if (it->second.consumer) corrupt("PEL entry owned by two consumers");
        it->second.consumer = consumer;
        consumer->pel.insert(id);
      }
    }
    for (const auto& [id, nack] : group->pel)
      if (!nack.consumer) corrupt("group PEL entry without a consumer");
  }
  out = Value::collection(ValueType::kStream, std::move(sv));
}

// ---------------------------------------------------------------------------
// Whole files

std::string at_offset(const Input& in) { return " at offset " + std::to_string(in.offset()); }

void load_file(Input& in, RdbLoadHandler& handler, const RdbLoadOptions& options, RdbLoadResult& result) {
  const uint8_t* magic = in.take(9);
  if (std::memcmp(magic, rdb::kMagic.data(), rdb::kMagic.size()) != 0)
    throw Corrupt{"wrong signature (not an RDB file)"};
  int version = 0;
  for (int i = 5; i < 9; ++i) {
    if (magic[i] < '0' || magic[i] > '9') throw Corrupt{"invalid RDB version"};
    version = version * 10 + (magic[i] - '0');
  }
  result.version = version;
  if (version < 1 || version > rdb::kVersion) {
    result.error = "Can't handle RDB format version " + std::to_string(version);
    return;
  }

  Decoder dec(in, options.limits);
  std::string field, value, cbuf;
  RdbKeyInfo info;
  while (true) {
    const uint8_t type = in.byte();
    switch (type) {
      case rdb::kOpExpireTime:
        info.expire_ms = static_cast<int64_t>(static_cast<int32_t>(load_le(in.take(4), 4))) * 1000;
        continue;
      case rdb::kOpExpireTimeMs: info.expire_ms = read_millis(in); continue;
      case rdb::kOpFreq: info.lfu_freq = in.byte(); continue;
      case rdb::kOpIdle: {
        const uint64_t idle = read_len(in);
        info.lru_idle_s = static_cast<int64_t>(std::min<uint64_t>(idle, INT64_MAX));
        continue;
      }
      case rdb::kOpSelectDb: {
        const uint64_t db = read_len(in);
        if (db >= options.databases)
          throw Corrupt{"database index " + std::to_string(db) + " out of range (the server has " +
                        std::to_string(options.databases) + " databases)"};
        info.db = db;
        handler.on_select_db(db);
        continue;
      }
      case rdb::kOpResizeDb: {
        const uint64_t keys = read_len(in);
        const uint64_t expires = read_len(in);
        handler.on_resize_db(keys, expires);
        continue;
      }
      case rdb::kOpAux: {
        read_string_to(in, field, cbuf);
        read_string_to(in, value, cbuf);
        handler.on_aux(field, value);
        continue;
      }
      case rdb::kOpModuleAux: throw Corrupt{"module auxiliary data is not supported (no modules)"};
      case rdb::kOpFunctionPreGA: throw Corrupt{"pre-release function format not supported"};
      case rdb::kOpFunction2: {
        std::string code;
        read_string_to(in, code, cbuf);
        std::string err;
        if (!handler.on_function(std::move(code), &err)) {
          result.error = err.empty() ? "function library rejected" : err;
          return;
        }
        ++result.functions;
        continue;
      }
      case rdb::kOpEof: break;
      default: {
        if (!rdb::is_object_type(type)) throw Corrupt{"unknown object type " + std::to_string(type)};
        std::string key;
        read_string_to(in, key, cbuf);
        Value v;
        if (!dec.read_object(type, v)) {
          ++result.empty_keys_skipped;
        } else {
          std::string err;
          if (!handler.on_key(std::move(key), std::move(v), info, &err)) {
            result.error = err.empty() ? "key rejected by the loader" : err;
            return;
          }
          ++result.keys;
        }
        info.expire_ms = storage::kNoExpiry;
        info.lru_idle_s = -1;
        info.lfu_freq = -1;
        continue;
      }
    }
    break;  // EOF
  }

  if (version >= 5) {
    const uint64_t expected = in.crc();
    const uint64_t stored = load_le(in.take(8), 8);
    if (options.verify_checksum && stored != 0) {
      if (stored != expected) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "RDB checksum mismatch (computed %016llx, file has %016llx)",
                      static_cast<unsigned long long>(expected), static_cast<unsigned long long>(stored));
        result.error = buf;
        return;
      }
      result.checksum_checked = true;
    }
  }
  result.ok = true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Sources

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileSource::open(const std::string& path, std::string* error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    error_ = "Can't open the RDB file " + path + ": " + std::strerror(errno);
    if (error) *error = error_;
    return false;
  }
  struct stat st;
  size_known_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  size_ = size_known_ ? static_cast<uint64_t>(st.st_size) : 0;
  pos_ = 0;
  return true;
}

ptrdiff_t FileSource::read(char* buf, size_t n) {
  while (true) {
    const ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) {
      pos_ += static_cast<uint64_t>(r);
      return r;
    }
    if (errno == EINTR) continue;
    error_ = std::string("Error reading the RDB file: ") + std::strerror(errno);
    return -1;
  }
}

std::optional<uint64_t> FileSource::remaining() const {
  if (!size_known_) return std::nullopt;
  return pos_ < size_ ? size_ - pos_ : 0;
}

ptrdiff_t MemorySource::read(char* buf, size_t n) {
  n = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return static_cast<ptrdiff_t>(n);
}

// ---------------------------------------------------------------------------
// Public entry points

RdbLoadResult load_rdb(RdbSource& source, RdbLoadHandler& handler, const RdbLoadOptions& options) {
  RdbLoadResult result;
  std::unique_ptr<Input> in;
  if (auto* mem = dynamic_cast<MemorySource*>(&source))
    in = std::make_unique<Input>(mem->data(), options.verify_checksum);
  else
    in = std::make_unique<Input>(source, options.buffer_bytes, options.verify_checksum);
  try {
    load_file(*in, handler, options, result);
  } catch (const Corrupt& c) {
    result.ok = false;
    result.error = "Bad file format: " + c.what + at_offset(*in);
  } catch (const Truncated&) {
    result.ok = false;
    result.error = "Bad file format: unexpected end of file" + at_offset(*in) + " (truncated RDB)";
  } catch (const IoError& e) {
    result.ok = false;
    result.error = e.what.empty() ? "Error reading the RDB file" : e.what;
  } catch (const std::bad_alloc&) {
    result.ok = false;
    result.error = "Out of memory loading the RDB file" + at_offset(*in);
  } catch (const std::exception& e) {
    result.ok = false;
    result.error = std::string("Bad file format: ") + e.what() + at_offset(*in);
  }
  result.bytes = in->offset();
  return result;
}

RdbLoadResult load_rdb_file(const std::string& path, RdbLoadHandler& handler, const RdbLoadOptions& options) {
  FileSource src;
  std::string err;
  if (!src.open(path, &err)) {
    RdbLoadResult r;
    r.error = err;
    return r;
  }
  return load_rdb(src, handler, options);
}

RdbValueStatus decode_rdb_object(uint8_t type, std::string_view data, const RdbValueLimits& limits, Value& out,
                                 size_t* consumed, std::string* error) {
  Input in(data, false);
  Decoder dec(in, limits);
  std::string what;
  try {
    Value v;
    if (!dec.read_object(type, v)) {
      if (error) *error = "empty collection";
      return RdbValueStatus::kEmpty;
    }
    out = std::move(v);
    if (consumed) *consumed = static_cast<size_t>(in.offset());
    return RdbValueStatus::kOk;
  } catch (const Corrupt& c) {
    what = c.what;
  } catch (const Truncated&) {
    what = "unexpected end of data";
  } catch (const std::bad_alloc&) {
    what = "out of memory";  // e.g. an LZF string declaring a huge length
  } catch (const std::exception& e) {
    what = e.what();
  }
  if (error) *error = what + " at offset " + std::to_string(in.offset());
  return RdbValueStatus::kCorrupt;
}

}  // namespace distcache::persistence
