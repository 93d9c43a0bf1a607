// RDB writing: see rdb_writer.h for the encodings chosen and the file layout.
#include "persistence/rdb_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <liblzf/lzf.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "storage/hash_value.h"
#include "storage/list.h"
#include "storage/numbers.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace distcache::persistence {

using storage::Value;
using storage::ValueType;

namespace {

void store_le(char* p, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// Builds a Redis listpack in a reused buffer.
class ListpackBuilder {
 public:
  explicit ListpackBuilder(std::string& buf) : buf_(buf) { buf_.assign(rdb::listpack::kHeaderSize, '\0'); }

  void add_int(int64_t v) {
    namespace lp = rdb::listpack;
    char tmp[9];
    size_t n;
    if (v >= 0 && v <= 127) {
      tmp[0] = static_cast<char>(v);
      n = 1;
    } else if (v >= -4096 && v <= 4095) {
      const uint64_t u = static_cast<uint64_t>(v) & 0x1FFF;  // 13-bit two's complement
      tmp[0] = static_cast<char>(lp::k13BitInt | (u >> 8));
      tmp[1] = static_cast<char>(u & 0xFF);
      n = 2;
    } else if (v >= -32768 && v <= 32767) {
      tmp[0] = static_cast<char>(lp::k16BitInt);
      store_le(tmp + 1, static_cast<uint64_t>(v), 2);
      n = 3;
    } else if (v >= -8388608 && v <= 8388607) {
      tmp[0] = static_cast<char>(lp::k24BitInt);
      store_le(tmp + 1, static_cast<uint64_t>(v), 3);
      n = 4;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      tmp[0] = static_cast<char>(lp::k32BitInt);
      store_le(tmp + 1, static_cast<uint64_t>(v), 4);
      n = 5;
    } else {
      tmp[0] = static_cast<char>(lp::k64BitInt);
      store_le(tmp + 1, static_cast<uint64_t>(v), 8);
      n = 9;
    }
    buf_.append(tmp, n);
    add_backlen(n);
  }

  // Canonical integers are stored as integers, as lpAppend does.
  void add_string(std::string_view s) {
    int64_t v;
    if (s.size() <= 20 && storage::parse_int64(s, v)) return add_int(v);
    add_raw_string(s);
  }

  void add_raw_string(std::string_view s) {
    namespace lp = rdb::listpack;
    const size_t len = s.size();
    size_t hdr;
    if (len < 64) {
      buf_.push_back(static_cast<char>(lp::k6BitStr | len));
      hdr = 1;
    } else if (len < 4096) {
      buf_.push_back(static_cast<char>(lp::k12BitStr | (len >> 8)));
      buf_.push_back(static_cast<char>(len & 0xFF));
      hdr = 2;
    } else {
      char tmp[5];
      tmp[0] = static_cast<char>(lp::k32BitStr);
      store_le(tmp + 1, len, 4);
      buf_.append(tmp, 5);
      hdr = 5;
    }
    buf_.append(s);
    add_backlen(hdr + len);
  }

  void add_entry(const storage::ListEntry& e) {
    if (e.is_int)
      add_int(e.ival);
    else
      add_raw_string(std::string_view(e.ptr, e.len));
  }

  // Terminates the listpack and fills in its header; returns its bytes.
  std::string_view finish() {
    buf_.push_back(static_cast<char>(rdb::listpack::kEof));
    store_le(buf_.data(), buf_.size(), 4);
    const uint64_t count = count_ < rdb::listpack::kUnknownCount ? count_ : rdb::listpack::kUnknownCount;
    store_le(buf_.data() + 4, count, 2);
    return buf_;
  }

 private:
  void add_backlen(uint64_t l) {
    char tmp[5];
    size_t n = rdb::listpack::backlen_size(l);
    // The first byte holds the highest 7-bit group (high bit clear); the
    // following ones have the high bit set, down to the lowest group last.
    for (size_t i = 0; i < n; ++i) {
      const size_t shift = 7 * (n - 1 - i);
      tmp[i] = static_cast<char>(((l >> shift) & 127) | (i == 0 ? 0 : 128));
    }
    buf_.append(tmp, n);
    ++count_;
  }

  std::string& buf_;
  uint64_t count_ = 0;
};

// A sorted-set score as Redis 7.0 stores it in a listpack: integral values
// of magnitude below 2^52 as integers, infinities as "inf"/"-inf", anything
// else with 17 significant digits ("%.17g"); the text is then stored as an
// integer by the listpack when it is one. -0 is stored as 0.
std::string_view format_score(double d, char* buf, size_t cap) {
  if (std::isinf(d)) return d > 0 ? std::string_view("inf") : std::string_view("-inf");
  if (d == 0) return "0";
  if (d > -4503599627370495.0 && d < 4503599627370496.0 && d == static_cast<double>(static_cast<int64_t>(d)))
    return std::string_view(buf, storage::format_int64(static_cast<int64_t>(d), buf));
  const int n = std::snprintf(buf, cap, "%.17g", d);
  return std::string_view(buf, static_cast<size_t>(n));
}

}  // namespace

// ---------------------------------------------------------------------------
// FileSink

FileSink::~FileSink() { close(); }

bool FileSink::open(const std::string& path, std::string* error) {
  close();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error_ = "Failed opening the RDB file " + path + " for saving: " + std::strerror(errno);
    if (error) *error = error_;
    return false;
  }
  written_ = 0;
  error_.clear();
  return true;
}

bool FileSink::write(const char* data, size_t n) {
  if (fd_ < 0) {
    error_ = "RDB file is not open";
    return false;
  }
  while (n > 0) {
    const ssize_t w = ::write(fd_, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("Write error saving DB on disk: ") + std::strerror(errno);
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
  return true;
}

bool FileSink::sync_and_close(std::string* error) {
  bool ok = fd_ >= 0;
  if (!ok) error_ = "RDB file is not open";
  if (ok && ::fsync(fd_) != 0) {
    error_ = std::string("fsync error saving DB on disk: ") + std::strerror(errno);
    ok = false;
  }
  if (fd_ >= 0 && ::close(fd_) != 0 && ok) {
    error_ = std::string("close error saving DB on disk: ") + std::strerror(errno);
    ok = false;
  }
  fd_ = -1;
  if (!ok && error) *error = error_;
  return ok;
}

void FileSink::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---------------------------------------------------------------------------
// RdbWriter: primitives

RdbWriter::RdbWriter(RdbSink& sink, RdbWriterOptions options) : sink_(sink), options_(options) {
  cap_ = std::max<size_t>(options_.buffer_bytes, 64);
  buf_ = std::make_unique<char[]>(cap_);
}

void RdbWriter::flush_buffer() {
  if (pos_ == 0) return;
  if (ok_) {
    if (options_.checksum) crc_ = crc64(crc_, buf_.get(), pos_);
    if (!sink_.write(buf_.get(), pos_)) ok_ = false;
  }
  flushed_ += pos_;
  pos_ = 0;
}

bool RdbWriter::flush() {
  flush_buffer();
  return ok_;
}

void RdbWriter::write_raw(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  if (n <= cap_ - pos_) {
    std::memcpy(buf_.get() + pos_, p, n);
    pos_ += n;
    return;
  }
  flush_buffer();
  if (n < cap_) {
    std::memcpy(buf_.get(), p, n);
    pos_ = n;
    return;
  }
  // Big payloads go to the sink directly.
  if (ok_) {
    if (options_.checksum) crc_ = crc64(crc_, p, n);
    if (!sink_.write(p, n)) ok_ = false;
  }
  flushed_ += n;
}

uint64_t RdbWriter::checksum() {
  if (!options_.checksum) return 0;
  return crc64(crc_, buf_.get(), pos_);
}

void RdbWriter::write_len(uint64_t len) {
  char tmp[9];
  if (len < (1u << 6)) {
    write_byte(static_cast<uint8_t>(len));
  } else if (len < (1u << 14)) {
    tmp[0] = static_cast<char>((rdb::kLen14Bit << 6) | (len >> 8));
    tmp[1] = static_cast<char>(len & 0xFF);
    write_raw(tmp, 2);
  } else if (len <= UINT32_MAX) {
    tmp[0] = static_cast<char>(rdb::kLen32Bit);
    for (int i = 0; i < 4; ++i) tmp[1 + i] = static_cast<char>(len >> (24 - 8 * i));
    write_raw(tmp, 5);
  } else {
    tmp[0] = static_cast<char>(rdb::kLen64Bit);
    for (int i = 0; i < 8; ++i) tmp[1 + i] = static_cast<char>(len >> (56 - 8 * i));
    write_raw(tmp, 9);
  }
}

void RdbWriter::write_string(std::string_view s) {
  const size_t len = s.size();
  // Integers that fit 32 bits, written as int8/16/32.
  if (len > 0 && len <= rdb::kIntEncodeMaxLength) {
    int64_t v;
    if (storage::parse_int64(s, v)) {
      char tmp[5];
      if (v >= INT8_MIN && v <= INT8_MAX) {
        tmp[0] = static_cast<char>((rdb::kLenEncoded << 6) | rdb::kEncInt8);
        tmp[1] = static_cast<char>(v);
        return write_raw(tmp, 2);
      }
      if (v >= INT16_MIN && v <= INT16_MAX) {
        tmp[0] = static_cast<char>((rdb::kLenEncoded << 6) | rdb::kEncInt16);
        store_le(tmp + 1, static_cast<uint64_t>(v), 2);
        return write_raw(tmp, 3);
      }
      if (v >= INT32_MIN && v <= INT32_MAX) {
        tmp[0] = static_cast<char>((rdb::kLenEncoded << 6) | rdb::kEncInt32);
        store_le(tmp + 1, static_cast<uint64_t>(v), 4);
        return write_raw(tmp, 5);
      }
    }
  }
  if (options_.compression && len > rdb::kLzfMinLength && len <= UINT32_MAX) {
    // Worth it only when at least 4 bytes are saved (Redis's rule).
    const size_t out_cap = len - 4;
    if (lzf_cap_ < out_cap) {
      lzf_cap_ = std::max(out_cap, lzf_cap_ * 2);
      lzf_ = std::make_unique<char[]>(lzf_cap_);
    }
    const unsigned clen = lzf_compress(s.data(), static_cast<unsigned>(len), lzf_.get(), static_cast<unsigned>(out_cap));
    if (clen > 0) {
      write_byte(static_cast<uint8_t>((rdb::kLenEncoded << 6) | rdb::kEncLzf));
      write_len(clen);
      write_len(len);
      write_raw(lzf_.get(), clen);
      return;
    }
  }
  write_len(len);
  write_raw(s.data(), len);
}

void RdbWriter::write_millis(int64_t ms) {
  char tmp[8];
  store_le(tmp, static_cast<uint64_t>(ms), 8);
  write_raw(tmp, 8);
}

void RdbWriter::write_binary_double(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  char tmp[8];
  store_le(tmp, bits, 8);
  write_raw(tmp, 8);
}

// ---------------------------------------------------------------------------
// Whole files

void RdbWriter::write_header() {
  char magic[16];
  const int n = std::snprintf(magic, sizeof magic, "REDIS%04d", rdb::kVersion);
  write_raw(magic, static_cast<size_t>(n));
}

void RdbWriter::write_aux(std::string_view field, std::string_view value) {
  write_byte(rdb::kOpAux);
  write_string(field);
  write_string(value);
}

void RdbWriter::write_aux(std::string_view field, int64_t value) {
  char buf[storage::kInt64StrSize];
  write_aux(field, std::string_view(buf, storage::format_int64(value, buf)));
}

void RdbWriter::write_standard_aux(const RdbAuxInfo& info) {
  write_aux("redis-ver", rdb::kRedisVersion);
  write_aux("redis-bits", static_cast<int64_t>(sizeof(void*) * 8));
  write_aux("ctime", info.ctime);
  write_aux("used-mem", info.used_mem);
  write_aux("aof-base", static_cast<int64_t>(info.aof_base ? 1 : 0));
}

void RdbWriter::write_function(std::string_view library_code) {
  write_byte(rdb::kOpFunction2);
  write_string(library_code);
}

void RdbWriter::write_select_db(uint64_t db, uint64_t keys, uint64_t keys_with_expiry) {
  write_byte(rdb::kOpSelectDb);
  write_len(db);
  write_byte(rdb::kOpResizeDb);
  write_len(keys);
  write_len(keys_with_expiry);
}

void RdbWriter::write_key(std::string_view key, const Value& value, int64_t expire_ms) {
  if (expire_ms != storage::kNoExpiry) {
    write_byte(rdb::kOpExpireTimeMs);
    write_millis(expire_ms);
  }
  if (options_.access_info == RdbWriterOptions::AccessInfo::kIdle) {
    write_byte(rdb::kOpIdle);
    write_len(storage::access::lru_idle_ms(value.lru()) / 1000);
  } else if (options_.access_info == RdbWriterOptions::AccessInfo::kFreq) {
    write_byte(rdb::kOpFreq);
    write_byte(storage::access::lfu_decayed(value.lfu_time(), value.lfu_counter()));
  }
  write_object_type(value);
  write_string(key);
  write_object(value);
}

uint64_t RdbWriter::write_db(uint64_t index, std::span<const storage::Db* const> parts, int64_t now_ms) {
  uint64_t keys = 0, expires = 0;
  for (const storage::Db* d : parts) {
    keys += d->size();
    expires += d->expires_size();
  }
  if (keys == 0) return 0;
  write_select_db(index, keys, expires);
  uint64_t written = 0;
  for (const storage::Db* d : parts) {
    const bool any_ttl = d->expires_size() > 0;
    d->for_each(now_ms, [&](std::string_view key, const Value& v) {
      write_key(key, v, any_ttl ? d->expire_at(key) : storage::kNoExpiry);
      ++written;
    });
  }
  return written;
}

bool RdbWriter::finish() {
  write_byte(rdb::kOpEof);
  const uint64_t crc = checksum();
  char tmp[8];
  store_le(tmp, crc, 8);
  write_raw(tmp, 8);
  return flush();
}

// ---------------------------------------------------------------------------
// Values

uint8_t RdbWriter::object_type(const Value& value) {
  switch (value.type()) {
    case ValueType::kString: return rdb::kTypeString;
    case ValueType::kList: return rdb::kTypeListQuicklist2;
    case ValueType::kSet: return value.as<storage::SetValue>().is_intset() ? rdb::kTypeSetIntset : rdb::kTypeSet;
    case ValueType::kZSet:
      return value.as<storage::ZSetValue>().is_listpack() ? rdb::kTypeZSetListpack : rdb::kTypeZSet2;
    case ValueType::kHash:
      return value.as<storage::HashValue>().is_listpack() ? rdb::kTypeHashListpack : rdb::kTypeHash;
    case ValueType::kStream: return rdb::kTypeStreamListpacks2;
  }
  return rdb::kTypeString;
}

void RdbWriter::write_object(const Value& value) {
  switch (value.type()) {
    case ValueType::kString: return write_string(value.str());
    case ValueType::kList: return write_list(value.as<storage::List>());
    case ValueType::kSet: return write_set(value.as<storage::SetValue>());
    case ValueType::kZSet: return write_zset(value.as<storage::ZSetValue>());
    case ValueType::kHash: return write_hash(value.as<storage::HashValue>());
    case ValueType::kStream: return write_stream(value.as<storage::StreamValue>());
  }
}

void RdbWriter::write_list(const storage::List& l) {
  const size_t nodes = l.node_count();
  write_len(nodes);
  if (l.empty()) return;
  storage::List::Cursor c = l.cursor(0);
  for (size_t k = 0; k < nodes; ++k) {
    ListpackBuilder lp(lp_);
    for (size_t i = l.node_entries(k); i > 0 && c.valid(); --i, c.next()) lp.add_entry(c.entry());
    write_len(rdb::kQuicklistNodePacked);
    write_string(lp.finish());
  }
}

void RdbWriter::write_set(const storage::SetValue& s) {
  if (s.is_intset()) {
    const unsigned width = s.intset_width();
    const size_t n = s.size();
    lp_.resize(rdb::intset::kHeaderSize + n * width);
    char* p = lp_.data();
    store_le(p, width, 4);
    store_le(p + 4, n, 4);
    p += rdb::intset::kHeaderSize;
    for (size_t i = 0; i < n; ++i, p += width) store_le(p, static_cast<uint64_t>(s.int_at(i)), width);
    write_string(lp_);
    return;
  }
  write_len(s.size());
  s.for_each([this](std::string_view m) { write_string(m); });
}

void RdbWriter::write_zset(const storage::ZSetValue& z) {
  if (z.is_listpack()) {
    ListpackBuilder lp(lp_);
    char buf[64];
    z.walk(0, false, [&](std::string_view m, double score) {
      lp.add_string(m);
      lp.add_string(format_score(score, buf, sizeof buf));
    });
    write_string(lp.finish());
    return;
  }
  // Highest score first, so that loading inserts each element at the head.
  write_len(z.size());
  if (z.size() == 0) return;
  z.walk(z.size() - 1, true, [&](std::string_view m, double score) {
    write_string(m);
    write_binary_double(score);
  });
}

void RdbWriter::write_hash(const storage::HashValue& h) {
  if (h.is_listpack()) {
    ListpackBuilder lp(lp_);
    h.for_each([&](std::string_view f, std::string_view v) {
      lp.add_string(f);
      lp.add_string(v);
    });
    write_string(lp.finish());
    return;
  }
  write_len(h.length());
  h.for_each([&](std::string_view f, std::string_view v) {
    write_string(f);
    write_string(v);
  });
}

void RdbWriter::write_stream_id_raw(uint64_t ms, uint64_t seq) {
  char tmp[rdb::kStreamIdBytes];
  for (int i = 0; i < 8; ++i) {
    tmp[i] = static_cast<char>(ms >> (56 - 8 * i));
    tmp[8 + i] = static_cast<char>(seq >> (56 - 8 * i));
  }
  write_raw(tmp, sizeof tmp);
}

void RdbWriter::write_stream(const storage::StreamValue& s) {
  using storage::StreamID;
  const size_t blocks = s.block_count();
  write_len(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    const StreamID master = s.block_master_id(i);
    char key[rdb::kStreamIdBytes];
    for (int b = 0; b < 8; ++b) {
      key[b] = static_cast<char>(master.ms >> (56 - 8 * b));
      key[8 + b] = static_cast<char>(master.seq >> (56 - 8 * b));
    }
    write_string(std::string_view(key, sizeof key));

    // Master entry: count, deleted, #fields, fields..., 0; then each entry:
    // flags, ms-diff, seq-diff, [#fields, field, value...] or values, lp-count.
    ListpackBuilder lp(lp_);
    lp.add_int(s.block_live_count(i));
    lp.add_int(s.block_deleted_count(i));
    s.block_master_fields(i, names_);
    lp.add_int(static_cast<int64_t>(names_.size()));
    for (std::string_view f : names_) lp.add_string(f);
    lp.add_int(0);
    s.for_each_block_entry(i, [&](const storage::StreamValue::RawEntry& e) {
      int64_t flags = 0;
      if (e.deleted) flags |= rdb::kStreamFlagDeleted;
      if (e.same_fields) flags |= rdb::kStreamFlagSameFields;
      lp.add_int(flags);
      lp.add_int(static_cast<int64_t>(e.id.ms - master.ms));
      lp.add_int(static_cast<int64_t>(e.id.seq - master.seq));
      const auto& fields = *e.fields;
      const int64_t n = static_cast<int64_t>(fields.size());
      if (!e.same_fields) {
        lp.add_int(n);
        for (const auto& [f, v] : fields) {
          lp.add_string(f);
          lp.add_string(v);
        }
      } else {
        for (const auto& fv : fields) lp.add_string(fv.second);
      }
      lp.add_int(e.same_fields ? n + 3 : 2 * n + 4);
    });
    write_string(lp.finish());
  }

  write_len(s.length());
  write_len(s.last_id().ms);
  write_len(s.last_id().seq);
  write_len(s.first_id().ms);
  write_len(s.first_id().seq);
  write_len(s.max_deleted_id().ms);
  write_len(s.max_deleted_id().seq);
  write_len(s.entries_added());

  const storage::StreamValue::GroupMap* groups = s.groups();
  write_len(groups ? groups->size() : 0);
  if (!groups) return;
  for (const auto& [name, g] : *groups) {
    write_string(name);
    write_len(g.last_id.ms);
    write_len(g.last_id.seq);
    write_len(static_cast<uint64_t>(g.entries_read));
    write_len(g.pel.size());
    for (const auto& [id, nack] : g.pel) {
      write_stream_id_raw(id.ms, id.seq);
      write_millis(nack.delivery_time);
      write_len(nack.delivery_count);
    }
    write_len(g.consumers.size());
    for (const auto& [cname, c] : g.consumers) {
      write_string(cname);
      write_millis(c.seen_time);
      write_len(c.pel.size());
      for (const StreamID& id : c.pel) write_stream_id_raw(id.ms, id.seq);
    }
  }
}

}  // namespace distcache::persistence
