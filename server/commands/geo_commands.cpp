// Geospatial commands (Redis group "geo"). Positions live in sorted sets: the
// score of a member is its 52-bit interleaved geohash (see storage/geohash.h),
// so GEOADD is a ZADD with computed scores and searches are score-range scans
// over the 9 geohash cells around the search centre, exactly as Redis 7.0
// performs them (same cells, same order, same distance formula), so replies
// match redis-server's byte for byte.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/zset_access.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/geohash.h"
#include "storage/numbers.h"
#include "storage/zset_value.h"

namespace distcache::server {
namespace {

namespace geo = storage::geo;
using storage::Db;
using storage::Value;
using storage::ValueType;
using storage::ZScoreRange;
using storage::ZSetLimits;
using storage::ZSetValue;

// A coordinate as Redis replies it: long double, 17 decimals, trailing zeros
// trimmed; a bulk string in RESP2, a double in RESP3.
void reply_coordinate(protocol::ReplyBuilder& r, double v) {
  const std::string s = storage::format_long_double_human(static_cast<long double>(v));
  if (r.resp() > 2) {
    std::string line;
    line.reserve(s.size() + 3);
    line.push_back(',');
    line.append(s);
    line.append("\r\n");
    r.raw(line);
  } else {
    r.bulk(s);
  }
}

// Distances: "%.4f", always a bulk string.
void reply_distance(protocol::ReplyBuilder& r, double d) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof(buf), "%.4f", d);
  r.bulk(std::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0));
}

// Meters per unit, or a negative value after replying the error.
double parse_unit(CommandContext& ctx, std::string_view u) {
  if (is_option(u, "m")) return 1;
  if (is_option(u, "km")) return 1000;
  if (is_option(u, "ft")) return 0.3048;
  if (is_option(u, "mi")) return 1609.34;
  ctx.reply.error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

// Longitude and latitude at args[idx], args[idx+1].
bool parse_lonlat(CommandContext& ctx, size_t idx, double xy[2]) {
  for (int i = 0; i < 2; ++i) {
    if (!storage::parse_double(ctx.args[idx + static_cast<size_t>(i)], xy[i])) {
      ctx.reply.error(errors::kNotFloat);
      return false;
    }
  }
  if (xy[0] < geo::kLonMin || xy[0] > geo::kLonMax || xy[1] < geo::kLatMin || xy[1] > geo::kLatMax) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
    ctx.reply.error(buf);
    return false;
  }
  return true;
}

// radius unit at args[idx], args[idx+1].
bool parse_radius(CommandContext& ctx, size_t idx, geo::Shape& shape) {
  double d;
  if (!storage::parse_double(ctx.args[idx], d)) {
    ctx.reply.error("ERR need numeric radius");
    return false;
  }
  if (d < 0) {
    ctx.reply.error("ERR radius cannot be negative");
    return false;
  }
  shape.radius = d;
  const double conv = parse_unit(ctx, ctx.args[idx + 1]);
  if (conv < 0) return false;
  shape.conversion = conv;
  return true;
}

// width height unit at args[idx..idx+2].
bool parse_box(CommandContext& ctx, size_t idx, geo::Shape& shape) {
  double w, h;
  if (!storage::parse_double(ctx.args[idx], w)) {
    ctx.reply.error("ERR need numeric width");
    return false;
  }
  if (!storage::parse_double(ctx.args[idx + 1], h)) {
    ctx.reply.error("ERR need numeric height");
    return false;
  }
  if (h < 0 || w < 0) {
    ctx.reply.error("ERR height or width cannot be negative");
    return false;
  }
  shape.width = w;
  shape.height = h;
  const double conv = parse_unit(ctx, ctx.args[idx + 2]);
  if (conv < 0) return false;
  shape.conversion = conv;
  return true;
}

bool member_position(const ZSetValue& z, std::string_view member, double xy[2]) {
  double score;
  if (!z.score(member, score)) return false;
  return geo::decode_score(score, xy);
}

// ---------------------------------------------------------------------------
// GEOADD

void geoadd_command(CommandContext& ctx) {
  const auto& a = ctx.args;
  bool nx = false, xx = false, ch = false;
  size_t longidx = 2;
  while (longidx < a.size()) {
    std::string_view opt = a[longidx];
    if (is_option(opt, "nx"))
      nx = true;
    else if (is_option(opt, "xx"))
      xx = true;
    else if (is_option(opt, "ch"))
      ch = true;
    else
      break;
    ++longidx;
  }
  const size_t remaining = a.size() - longidx;
  // No triple at all ends in ZADD's syntax error too.
  if (remaining % 3 != 0 || (xx && nx) || remaining == 0) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  const size_t elements = remaining / 3;
  std::vector<double> scores(elements);
  for (size_t i = 0; i < elements; ++i) {
    double xy[2];
    if (!parse_lonlat(ctx, longidx + i * 3, xy)) return;
    // The score travels through ZADD as a decimal integer: the same double.
    scores[i] = geo::score_of(xy[0], xy[1]);
  }
  std::string_view key = a[1];
  ZSetValue* z;
  if (!get_zset(ctx, key, z)) return;
  if (!z) {
    if (xx) {
      ctx.reply.integer(0);
      return;
    }
    Value& v = ctx.db().set(key, Value::make<ZSetValue>(ValueType::kZSet));
    z = &v.as<ZSetValue>();
  }
  const unsigned flags = (nx ? unsigned{ZSetValue::kAddNx} : 0u) | (xx ? unsigned{ZSetValue::kAddXx} : 0u);
  const ZSetLimits limits = zset_limits(ctx);
  int64_t added = 0, updated = 0;
  for (size_t i = 0; i < elements; ++i) {
    const auto r = z->add(scores[i], a[longidx + i * 3 + 2], flags, limits);
    if (r == ZSetValue::AddResult::kAdded) ++added;
    if (r == ZSetValue::AddResult::kUpdated) ++updated;
  }
  if (added || updated) ctx.notify(notify::kZset, "zadd", key);
  if (added) ctx.signal_key_ready(key);
  ctx.reply.integer(ch ? added + updated : added);
}

// ---------------------------------------------------------------------------
// GEOPOS / GEOHASH / GEODIST

void geopos_command(CommandContext& ctx) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    double xy[2];
    if (!z || !member_position(*z, ctx.args[j], xy)) {
      ctx.reply.null_array();
      continue;
    }
    ctx.reply.array(2);
    reply_coordinate(ctx.reply, xy[0]);
    reply_coordinate(ctx.reply, xy[1]);
  }
}

void geohash_command(CommandContext& ctx) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  ctx.reply.array(ctx.args.size() - 2);
  std::string hash;
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    double score;
    if (!z || !z->score(ctx.args[j], score) || !geo::geohash_string(score, hash)) {
      ctx.reply.null_bulk();
      continue;
    }
    ctx.reply.bulk(hash);
  }
}

void geodist_command(CommandContext& ctx) {
  double to_meter = 1;
  if (ctx.args.size() == 5) {
    to_meter = parse_unit(ctx, ctx.args[4]);
    if (to_meter < 0) return;
  } else if (ctx.args.size() > 5) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  double a[2], b[2];
  if (!z || !member_position(*z, ctx.args[2], a) || !member_position(*z, ctx.args[3], b)) {
    ctx.reply.null_bulk();
    return;
  }
  reply_distance(ctx.reply, geo::distance(a[0], a[1], b[0], b[1]) / to_meter);
}

// ---------------------------------------------------------------------------
// GEORADIUS / GEORADIUSBYMEMBER (and _RO) / GEOSEARCH / GEOSEARCHSTORE

enum SearchFlag : unsigned {
  kRadiusCoords = 1,   // GEORADIUS[_RO]
  kRadiusMember = 2,   // GEORADIUSBYMEMBER[_RO]
  kRadiusNoStore = 4,  // the _RO variants
  kSearch = 8,         // GEOSEARCH[STORE]
  kSearchStore = 16,   // GEOSEARCHSTORE
};

struct GeoPoint {
  double lon, lat, dist, score;
  std::string_view member;
};

// The points of one geohash cell that lie in the shape, in score order.
void points_in_cell(const ZSetValue& z, geo::HashBits cell, const geo::Shape& shape, std::vector<GeoPoint>& out,
                    size_t limit) {
  const uint64_t min = geo::align52(cell);
  cell.bits++;
  const uint64_t max = geo::align52(cell);
  const ZScoreRange range{static_cast<double>(min), static_cast<double>(max), false, true};
  size_t rank;
  if (!z.first_in_range(range, rank)) return;
  z.walk(rank, false, [&](std::string_view m, double s) {
    if (!range.lte_max(s)) return false;
    double xy[2], dist = 0;
    if (geo::decode_score(s, xy) && geo::within_shape(shape, xy, dist))
      out.push_back(GeoPoint{xy[0], xy[1], dist, s, m});
    return !(!out.empty() && limit && out.size() >= limit);
  });
}

void points_in_area(const ZSetValue& z, const geo::SearchArea& area, const geo::Shape& shape,
                    std::vector<GeoPoint>& out, size_t limit) {
  const geo::HashBits cells[9] = {area.hash,
                                  area.neighbors.north,
                                  area.neighbors.south,
                                  area.neighbors.east,
                                  area.neighbors.west,
                                  area.neighbors.north_east,
                                  area.neighbors.north_west,
                                  area.neighbors.south_east,
                                  area.neighbors.south_west};
  size_t last_processed = 0;
  for (size_t i = 0; i < 9; ++i) {
    if (cells[i].zero()) continue;
    // With huge radii adjacent neighbours can be the same cell: skip a cell
    // equal to the one scanned just before (the centre is never compared).
    if (last_processed && cells[i].bits == cells[last_processed].bits &&
        cells[i].step == cells[last_processed].step)
      continue;
    if (!out.empty() && limit && out.size() >= limit) break;
    points_in_cell(z, cells[i], shape, out, limit);
    last_processed = i;
  }
}

// Partial sort used when COUNT keeps only part of the results: Redis 7.0
// sorts them with a partial Bentley-McIlroy quicksort (3-way partitioning,
// median-of-three / ninther pivots, insertion sort below 7 elements),
// recursing only into the parts that overlap the requested ranks [lo, hi].
// Ties between equal distances land where that algorithm puts them, so it is
// reproduced step by step here (checked against redis-server 7.0.15, whose
// version has no "no swaps: switch to insertion sort" shortcut).
template <class T, class Cmp>
void partial_quicksort(std::vector<T>& v, size_t a, size_t n, const Cmp& cmp, size_t lo, size_t hi) {
  auto overlaps = [lo, hi](size_t first, size_t count) {
    const size_t last = first + count - 1;
    return !((lo < first && hi < first) || (lo > last && hi > last));
  };
  auto med3 = [&](size_t x, size_t y, size_t z) {
    return cmp(v[x], v[y]) < 0 ? (cmp(v[y], v[z]) < 0 ? y : (cmp(v[x], v[z]) < 0 ? z : x))
                               : (cmp(v[y], v[z]) > 0 ? y : (cmp(v[x], v[z]) < 0 ? x : z));
  };
  for (;;) {
    auto insertion_sort = [&] {
      for (size_t m = a + 1; m < a + n; ++m)
        for (size_t l = m; l > a && cmp(v[l - 1], v[l]) > 0; --l) std::swap(v[l], v[l - 1]);
    };
    if (n < 7) {
      insertion_sort();
      return;
    }
    size_t pm = a + n / 2;
    if (n > 7) {
      size_t pl = a, pn = a + n - 1;
      if (n > 40) {
        const size_t d = n / 8;
        pl = med3(pl, pl + d, pl + 2 * d);
        pm = med3(pm - d, pm, pm + d);
        pn = med3(pn - 2 * d, pn - d, pn);
      }
      pm = med3(pl, pm, pn);
    }
    std::swap(v[a], v[pm]);
    size_t pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
    for (;;) {
      int c;
      while (pb <= pc && (c = cmp(v[pb], v[a])) <= 0) {
        if (c == 0) {
          std::swap(v[pa], v[pb]);
          ++pa;
        }
        ++pb;
      }
      while (pb <= pc && (c = cmp(v[pc], v[a])) >= 0) {
        if (c == 0) {
          std::swap(v[pc], v[pd]);
          --pd;
        }
        --pc;
      }
      if (pb > pc) break;
      std::swap(v[pb], v[pc]);
      ++pb;
      --pc;
    }
    const size_t pn = a + n;
    auto block_swap = [&](size_t x, size_t y, size_t count) {
      for (size_t i = 0; i < count; ++i) std::swap(v[x + i], v[y + i]);
    };
    size_t r = std::min(pa - a, pb - pa);
    block_swap(a, pb - r, r);
    r = std::min(pd - pc, pn - pd - 1);
    block_swap(pb, pn - r, r);
    if ((r = pb - pa) > 1 && overlaps(a, r)) partial_quicksort(v, a, r, cmp, lo, hi);
    if ((r = pd - pc) > 1) {
      a = pn - r;
      n = r;
      if (overlaps(a, n)) continue;
    }
    return;
  }
}

void georadius_generic(CommandContext& ctx, size_t src_idx, unsigned flags) {
  const auto& a = ctx.args;
  std::string_view storekey;
  bool has_store = false;
  bool storedist = false;

  ZSetValue* z;
  if (!get_zset(ctx, a[src_idx], z)) return;

  size_t base_args;
  geo::Shape shape;
  if (flags & kRadiusCoords) {
    base_args = 6;
    shape.type = geo::Shape::kCircle;
    if (!parse_lonlat(ctx, 2, shape.xy)) return;
    if (!parse_radius(ctx, base_args - 2, shape)) return;
  } else if ((flags & kRadiusMember) && !z) {
    base_args = 5;  // nothing to search: only the options are checked
  } else if (flags & kRadiusMember) {
    base_args = 5;
    shape.type = geo::Shape::kCircle;
    if (!member_position(*z, a[2], shape.xy)) {
      ctx.reply.error("ERR could not decode requested zset member");
      return;
    }
    if (!parse_radius(ctx, base_args - 2, shape)) return;
  } else {
    base_args = 2;
    if (flags & kSearchStore) {
      base_args = 3;
      storekey = a[1];
      has_store = true;
    }
  }

  bool withdist = false, withhash = false, withcoords = false;
  bool frommember = false, fromloc = false, byradius = false, bybox = false;
  enum { kSortNone, kSortAsc, kSortDesc } sort = kSortNone;
  bool any = false;
  int64_t count = 0;
  const size_t remaining = a.size() > base_args ? a.size() - base_args : 0;
  for (size_t i = 0; i < remaining; ++i) {
    std::string_view arg = a[base_args + i];
    if (is_option(arg, "withdist")) {
      withdist = true;
    } else if (is_option(arg, "withhash")) {
      withhash = true;
    } else if (is_option(arg, "withcoord")) {
      withcoords = true;
    } else if (is_option(arg, "any")) {
      any = true;
    } else if (is_option(arg, "asc")) {
      sort = kSortAsc;
    } else if (is_option(arg, "desc")) {
      sort = kSortDesc;
    } else if (is_option(arg, "count") && i + 1 < remaining) {
      if (!parse_int64(a[base_args + i + 1], count)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      if (count <= 0) {
        ctx.reply.error("ERR COUNT must be > 0");
        return;
      }
      ++i;
    } else if (is_option(arg, "store") && i + 1 < remaining && !(flags & kRadiusNoStore) && !(flags & kSearch)) {
      storekey = a[base_args + i + 1];
      has_store = true;
      storedist = false;
      ++i;
    } else if (is_option(arg, "storedist") && i + 1 < remaining && !(flags & kRadiusNoStore) &&
               !(flags & kSearch)) {
      storekey = a[base_args + i + 1];
      has_store = true;
      storedist = true;
      ++i;
    } else if (is_option(arg, "storedist") && (flags & kSearch) && (flags & kSearchStore)) {
      storedist = true;
    } else if (is_option(arg, "frommember") && i + 1 < remaining && (flags & kSearch) && !fromloc) {
      if (z && !member_position(*z, a[base_args + i + 1], shape.xy)) {
        ctx.reply.error("ERR could not decode requested zset member");
        return;
      }
      frommember = true;
      ++i;
    } else if (is_option(arg, "fromlonlat") && i + 2 < remaining && (flags & kSearch) && !frommember) {
      if (!parse_lonlat(ctx, base_args + i + 1, shape.xy)) return;
      fromloc = true;
      i += 2;
    } else if (is_option(arg, "byradius") && i + 2 < remaining && (flags & kSearch) && !bybox) {
      if (!parse_radius(ctx, base_args + i + 1, shape)) return;
      shape.type = geo::Shape::kCircle;
      byradius = true;
      i += 2;
    } else if (is_option(arg, "bybox") && i + 3 < remaining && (flags & kSearch) && !byradius) {
      if (!parse_box(ctx, base_args + i + 1, shape)) return;
      shape.type = geo::Shape::kBox;
      bybox = true;
      i += 3;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }

  if (has_store && (withdist || withhash || withcoords)) {
    ctx.reply.error((flags & kSearchStore)
                        ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                        : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD "
                          "options");
    return;
  }
  if ((flags & kSearch) && !(frommember || fromloc)) {
    std::string msg = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ";
    msg.append(c_string_prefix(a[0]));
    ctx.reply.error(msg);
    return;
  }
  if ((flags & kSearch) && !(byradius || bybox)) {
    std::string msg = "ERR exactly one of BYRADIUS and BYBOX can be specified for ";
    msg.append(c_string_prefix(a[0]));
    ctx.reply.error(msg);
    return;
  }
  if (any && !count) {
    ctx.reply.error("ERR the ANY argument requires COUNT argument");
    return;
  }

  Db& db = ctx.db();
  if (!z) {
    if (has_store) {
      if (db.erase(storekey, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", storekey);
      ctx.reply.integer(0);
    } else {
      ctx.reply.empty_array();
    }
    return;
  }

  // COUNT needs the nearest points: sort unless ANY.
  if (count != 0 && sort == kSortNone && !any) sort = kSortAsc;

  const geo::SearchArea area = geo::search_area(shape);
  std::vector<GeoPoint> points;
  points_in_area(*z, area, shape, points, any ? static_cast<size_t>(count) : 0);

  if (points.empty() && !has_store) {
    ctx.reply.empty_array();
    return;
  }
  const size_t result_length = points.size();
  const size_t returned =
      (count == 0 || result_length < static_cast<uint64_t>(count)) ? result_length : static_cast<size_t>(count);

  if (sort != kSortNone) {
    const bool asc = sort == kSortAsc;
    auto cmp3 = [asc](const GeoPoint& x, const GeoPoint& y) {
      const double a = asc ? x.dist : y.dist, b = asc ? y.dist : x.dist;
      return a > b ? 1 : (a == b ? 0 : -1);
    };
    if (returned == result_length) {
      // A full sort is glibc's qsort there: a stable merge sort.
      std::stable_sort(points.begin(), points.end(),
                       [&cmp3](const GeoPoint& x, const GeoPoint& y) { return cmp3(x, y) < 0; });
    } else {
      partial_quicksort(points, 0, points.size(), cmp3, 0, returned - 1);
    }
  }

  if (!has_store) {
    const size_t options = (withdist ? 1 : 0) + (withcoords ? 1 : 0) + (withhash ? 1 : 0);
    auto& r = ctx.reply;
    r.array(returned);
    for (size_t i = 0; i < returned; ++i) {
      const GeoPoint& p = points[i];
      if (options) r.array(options + 1);
      r.bulk(p.member);
      if (withdist) reply_distance(r, p.dist / shape.conversion);
      if (withhash) r.integer(static_cast<int64_t>(p.score));
      if (withcoords) {
        r.array(2);
        reply_coordinate(r, p.lon);
        reply_coordinate(r, p.lat);
      }
    }
    return;
  }

  if (returned == 0) {
    if (db.erase(storekey, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", storekey);
    ctx.reply.integer(0);
    return;
  }
  std::vector<ZSetValue::Entry> entries;
  entries.reserve(returned);
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < returned; ++i) {
    const GeoPoint& p = points[i];
    if (!seen.insert(p.member).second) continue;
    entries.push_back(ZSetValue::Entry{p.member, storedist ? p.dist / shape.conversion : p.score});
  }
  std::sort(entries.begin(), entries.end(), [](const ZSetValue::Entry& x, const ZSetValue::Entry& y) {
    return x.score < y.score || (x.score == y.score && x.member < y.member);
  });
  const ZSetLimits limits = zset_limits(ctx);
  size_t maxlen = 0, total = 0;
  for (const auto& e : entries) {
    maxlen = std::max(maxlen, e.member.size());
    total += e.member.size();
  }
  const bool listpack = entries.size() <= limits.max_listpack_entries && maxlen <= limits.max_listpack_value &&
                        total <= (size_t{1} << 30);
  std::unique_ptr<ZSetValue> result = ZSetValue::from_sorted(
      entries, listpack ? ZSetValue::Encoding::kListpack : ZSetValue::Encoding::kSkiplist);
  // The result owns its member bytes now; the source may be replaced.
  if (ctx.notify_flags) db.find(storekey, ctx.now_ms);  // reports an expired key first
  db.set(storekey, Value::collection(ValueType::kZSet, std::move(result)));
  ctx.notify(notify::kZset, (flags & kSearch) ? "geosearchstore" : "georadiusstore", storekey);
  ctx.signal_key_ready(storekey);
  ctx.reply.integer(static_cast<int64_t>(returned));
}

void georadius_command(CommandContext& ctx) { georadius_generic(ctx, 1, kRadiusCoords); }
void georadiusbymember_command(CommandContext& ctx) { georadius_generic(ctx, 1, kRadiusMember); }
void georadius_ro_command(CommandContext& ctx) { georadius_generic(ctx, 1, kRadiusCoords | kRadiusNoStore); }
void georadiusbymember_ro_command(CommandContext& ctx) {
  georadius_generic(ctx, 1, kRadiusMember | kRadiusNoStore);
}
void geosearch_command(CommandContext& ctx) { georadius_generic(ctx, 1, kSearch); }
void geosearchstore_command(CommandContext& ctx) { georadius_generic(ctx, 2, kSearch | kSearchStore); }

// Keys of GEORADIUS / GEORADIUSBYMEMBER: the source, plus the STORE /
// STOREDIST destination. The destination is found as Redis finds it (the last
// STORE/STOREDIST word from argument 5 on), and also as the command's own
// option parsing finds it, so that the key written is always routed.
bool georadius_keys(const protocol::ArgList& a, size_t base_args, std::vector<int>& out) {
  out.push_back(1);
  int redis_key = -1;
  for (size_t i = 5; i < a.size(); ++i) {
    if ((is_option(a[i], "store") || is_option(a[i], "storedist")) && i + 1 < a.size()) {
      redis_key = static_cast<int>(i + 1);
      ++i;
    }
  }
  int own_key = -1;
  for (size_t i = base_args; i < a.size(); ++i) {
    if (is_option(a[i], "count") && i + 1 < a.size()) {
      ++i;
    } else if ((is_option(a[i], "store") || is_option(a[i], "storedist")) && i + 1 < a.size()) {
      own_key = static_cast<int>(i + 1);
      ++i;
    }
  }
  if (redis_key > 0) out.push_back(redis_key);
  if (own_key > 0 && own_key != redis_key) out.push_back(own_key);
  return true;
}
bool georadius_find_keys(const protocol::ArgList& a, std::vector<int>& out) { return georadius_keys(a, 6, out); }
bool georadiusbymember_find_keys(const protocol::ArgList& a, std::vector<int>& out) {
  return georadius_keys(a, 5, out);
}

// ---------------------------------------------------------------------------
// The table

constexpr uint64_t kRead = kAclRead | kAclGeo | kAclSlow;
constexpr uint64_t kWrite = kAclWrite | kAclGeo | kAclSlow;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("geo", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr std::string_view kRadiusComplexity =
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by "
    "center and radius and M is the number of items inside the index.";
constexpr std::string_view kSearchComplexity =
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape "
    "provided as the filter and M is the number of items inside the shape";

const CommandSpec kGeoSpecs[] = {
    make("geoadd", -5, kCmdWrite | kCmdDenyOom, kWrite, 1, 1, 1, geoadd_command,
         "Adds members at longitude/latitude positions (NX/XX/CH).", "3.2.0",
         "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    make("geopos", -2, kCmdReadonly, kRead, 1, 1, 1, geopos_command,
         "Returns the longitude/latitude of members.", "3.2.0",
         "O(N) where N is the number of members requested."),
    make("geodist", -4, kCmdReadonly, kRead, 1, 1, 1, geodist_command,
         "Returns the distance between two members.", "3.2.0", "O(log(N))"),
    make("geohash", -2, kCmdReadonly, kRead, 1, 1, 1, geohash_command,
         "Returns the standard geohash strings of members.", "3.2.0",
         "O(log(N)) for each member requested, where N is the number of elements in the sorted set."),
    make("geosearch", -7, kCmdReadonly, kRead, 1, 1, 1, geosearch_command,
         "Returns members inside a circle or box around a member or a position.", "6.2.0", kSearchComplexity),
    make("geosearchstore", -8, kCmdWrite | kCmdDenyOom, kWrite, 1, 2, 1, geosearchstore_command,
         "Stores the members inside a circle or box (with their positions or distances).", "6.2.0",
         kSearchComplexity),
    make("georadius", -6, kCmdWrite | kCmdDenyOom | kCmdMovableKeys, kWrite, 1, 1, 1, georadius_command,
         "Returns (or stores) members within a radius of a position.", "3.2.0", kRadiusComplexity,
         georadius_find_keys),
    make("georadiusbymember", -5, kCmdWrite | kCmdDenyOom | kCmdMovableKeys, kWrite, 1, 1, 1,
         georadiusbymember_command, "Returns (or stores) members within a radius of a member.", "3.2.0",
         kRadiusComplexity, georadiusbymember_find_keys),
    make("georadius_ro", -6, kCmdReadonly, kRead, 1, 1, 1, georadius_ro_command,
         "Returns members within a radius of a position (read-only form).", "3.2.10", kRadiusComplexity),
    make("georadiusbymember_ro", -5, kCmdReadonly, kRead, 1, 1, 1, georadiusbymember_ro_command,
         "Returns members within a radius of a member (read-only form).", "3.2.10", kRadiusComplexity),
};

}  // namespace

std::span<const CommandSpec> geo_command_specs() { return kGeoSpecs; }

}  // namespace distcache::server
