#include "storage/geohash.h"

#include <cmath>

namespace distcache::storage::geo {

namespace {

constexpr double kMercatorMax = 20037726.37;
constexpr double kDegToRad = M_PI / 180.0;
constexpr uint64_t kEvenBits = 0x5555555555555555ULL;  // latitude
constexpr uint64_t kOddBits = 0xAAAAAAAAAAAAAAAAULL;   // longitude

inline double deg_rad(double deg) { return deg * kDegToRad; }
inline double rad_deg(double rad) { return rad / kDegToRad; }

// Spreads the 32 bits of v over the even bit positions of a 64-bit word.
inline uint64_t spread_bits(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// Gathers the even bits of v into a 32-bit value.
inline uint32_t gather_bits(uint64_t v) {
  uint64_t x = v & 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// double -> uint32 as a C cast does for the values that occur here (the
// offsets lie in [0, 2^step]).
inline uint32_t to_u32(double d) { return static_cast<uint32_t>(static_cast<int64_t>(d)); }

// Moves a cell by one in longitude (dx) or latitude (dy), wrapping around at
// the edges of the range, as Redis moves it: the coordinate's bits are
// incremented in place with the other coordinate's positions filled with ones
// (so the carry crosses them), then masked to the step's width.
void move_lon(HashBits& h, int d) {
  if (d == 0) return;
  const int shift = 64 - h.step * 2;
  uint64_t x = h.bits & kOddBits;
  const uint64_t y = h.bits & kEvenBits;
  const uint64_t fill = kEvenBits >> shift;
  if (d > 0) {
    x = x + (fill + 1);
  } else {
    x = x | fill;
    x = x - (fill + 1);
  }
  x &= kOddBits >> shift;
  h.bits = x | y;
}

void move_lat(HashBits& h, int d) {
  if (d == 0) return;
  const int shift = 64 - h.step * 2;
  const uint64_t x = h.bits & kOddBits;
  uint64_t y = h.bits & kEvenBits;
  const uint64_t fill = kOddBits >> shift;
  if (d > 0) {
    y = y + (fill + 1);
  } else {
    y = y | fill;
    y = y - (fill + 1);
  }
  y &= kEvenBits >> shift;
  h.bits = x | y;
}

int estimate_steps(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    ++step;
  }
  step -= 2;  // so that the range fits in most cases
  // Cells shrink towards the poles: widen them there.
  if (lat > 66 || lat < -66) {
    --step;
    if (lat > 80 || lat < -80) --step;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

// min lon, min lat, max lon, max lat of the shape's bounding box.
void bounding_box(const Shape& s, double bounds[4]) {
  const double lon = s.xy[0], lat = s.xy[1];
  const double height = s.conversion * (s.type == Shape::kCircle ? s.radius : s.height / 2);
  const double width = s.conversion * (s.type == Shape::kCircle ? s.radius : s.width / 2);
  const double lat_delta = rad_deg(height / kEarthRadiusMeters);
  const double lon_delta_top = rad_deg(width / kEarthRadiusMeters / std::cos(deg_rad(lat + lat_delta)));
  const double lon_delta_bottom = rad_deg(width / kEarthRadiusMeters / std::cos(deg_rad(lat - lat_delta)));
  // Meridians converge towards the pole: the wider edge is the one nearer
  // the equator.
  const bool southern = lat < 0;
  bounds[0] = southern ? lon - lon_delta_bottom : lon - lon_delta_top;
  bounds[2] = southern ? lon + lon_delta_bottom : lon + lon_delta_top;
  bounds[1] = lat - lat_delta;
  bounds[3] = lat + lat_delta;
}

}  // namespace

bool encode(Range lon_r, Range lat_r, double lon, double lat, int step, HashBits& out) {
  if (step > 32 || step == 0 || lat_r.zero() || lon_r.zero()) return false;
  if (lon > kLonMax || lon < kLonMin || lat > kLatMax || lat < kLatMin) return false;
  out.bits = 0;
  out.step = static_cast<uint8_t>(step);
  if (lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max) return false;
  double lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min);
  double lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min);
  lat_offset *= static_cast<double>(1ULL << step);
  lon_offset *= static_cast<double>(1ULL << step);
  out.bits = spread_bits(to_u32(lat_offset)) | (spread_bits(to_u32(lon_offset)) << 1);
  return true;
}

bool decode(Range lon_r, Range lat_r, HashBits hash, Area& out) {
  if (hash.zero() || lat_r.zero() || lon_r.zero()) return false;
  out.hash = hash;
  const uint32_t ilat = gather_bits(hash.bits);
  const uint32_t ilon = gather_bits(hash.bits >> 1);
  const double lat_scale = lat_r.max - lat_r.min;
  const double lon_scale = lon_r.max - lon_r.min;
  const double cells = static_cast<double>(1ULL << hash.step);
  out.lat.min = lat_r.min + (ilat * 1.0 / cells) * lat_scale;
  out.lat.max = lat_r.min + ((ilat + 1) * 1.0 / cells) * lat_scale;
  out.lon.min = lon_r.min + (ilon * 1.0 / cells) * lon_scale;
  out.lon.max = lon_r.min + ((ilon + 1) * 1.0 / cells) * lon_scale;
  return true;
}

bool decode_to_lonlat(HashBits hash, double xy[2]) {
  Area a;
  if (!decode(lon_range(), lat_range(), hash, a)) return false;
  xy[0] = (a.lon.min + a.lon.max) / 2;
  if (xy[0] > kLonMax) xy[0] = kLonMax;
  if (xy[0] < kLonMin) xy[0] = kLonMin;
  xy[1] = (a.lat.min + a.lat.max) / 2;
  if (xy[1] > kLatMax) xy[1] = kLatMax;
  if (xy[1] < kLatMin) xy[1] = kLatMin;
  return true;
}

uint64_t align52(HashBits hash) { return hash.bits << (52 - hash.step * 2); }

Neighbors neighbors(HashBits h) {
  Neighbors n;
  n.east = n.west = n.north = n.south = h;
  n.north_east = n.north_west = n.south_east = n.south_west = h;
  move_lon(n.east, 1);
  move_lon(n.west, -1);
  move_lat(n.south, -1);
  move_lat(n.north, 1);
  move_lon(n.north_west, -1);
  move_lat(n.north_west, 1);
  move_lon(n.south_west, -1);
  move_lat(n.south_west, -1);
  move_lon(n.north_east, 1);
  move_lat(n.north_east, 1);
  move_lon(n.south_east, 1);
  move_lat(n.south_east, -1);
  return n;
}

uint64_t score_to_bits(double score) {
  // What `(uint64_t)score` yields with GCC on x86-64: values below 2^63 (and
  // NaN) go through the signed conversion (INT64_MIN when out of range),
  // larger ones have 2^63 subtracted first and the top bit flipped.
  constexpr double kTwo63 = 9223372036854775808.0;
  auto signed_cvt = [](double d) -> uint64_t {
    if (!(d >= -kTwo63 && d < kTwo63)) return 0x8000000000000000ULL;
    return static_cast<uint64_t>(static_cast<int64_t>(d));
  };
  if (!(score >= kTwo63)) return signed_cvt(score);
  return signed_cvt(score - kTwo63) ^ 0x8000000000000000ULL;
}

bool decode_score(double score, double xy[2]) {
  HashBits h{score_to_bits(score), static_cast<uint8_t>(kStepMax)};
  return decode_to_lonlat(h, xy);
}

double score_of(double lon, double lat) {
  HashBits h;
  encode_wgs84(lon, lat, kStepMax, h);
  return static_cast<double>(align52(h));
}

double lat_distance(double lat1, double lat2) {
  return kEarthRadiusMeters * std::fabs(deg_rad(lat2) - deg_rad(lat1));
}

double distance(double lon1, double lat1, double lon2, double lat2) {
  const double lon1r = deg_rad(lon1);
  const double lon2r = deg_rad(lon2);
  const double v = std::sin((lon2r - lon1r) / 2);
  // Same meridian: the haversine reduces to the latitude difference.
  if (v == 0.0) return lat_distance(lat1, lat2);
  const double lat1r = deg_rad(lat1);
  const double lat2r = deg_rad(lat2);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusMeters * std::asin(std::sqrt(a));
}

SearchArea search_area(const Shape& shape) {
  double bounds[4];
  bounding_box(shape, bounds);
  const double min_lon = bounds[0], min_lat = bounds[1], max_lon = bounds[2], max_lat = bounds[3];
  const double lon = shape.xy[0], lat = shape.xy[1];
  // A box is covered through the circle around its corners.
  double radius_meters = shape.type == Shape::kCircle
                             ? shape.radius
                             : std::sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radius_meters *= shape.conversion;

  int steps = estimate_steps(radius_meters, lat);
  SearchArea r;
  encode(lon_range(), lat_range(), lon, lat, steps, r.hash);
  r.neighbors = neighbors(r.hash);
  decode(lon_range(), lat_range(), r.hash, r.area);

  // Near a cell edge the estimated step may be too fine for the neighbours
  // to cover the whole shape: use one step coarser then.
  bool decrease = false;
  {
    Area north, south, east, west;
    decode(lon_range(), lat_range(), r.neighbors.north, north);
    decode(lon_range(), lat_range(), r.neighbors.south, south);
    decode(lon_range(), lat_range(), r.neighbors.east, east);
    decode(lon_range(), lat_range(), r.neighbors.west, west);
    if (north.lat.max < max_lat) decrease = true;
    if (south.lat.min > min_lat) decrease = true;
    if (east.lon.max < max_lon) decrease = true;
    if (west.lon.min > min_lon) decrease = true;
  }
  if (steps > 1 && decrease) {
    --steps;
    encode(lon_range(), lat_range(), lon, lat, steps, r.hash);
    r.neighbors = neighbors(r.hash);
    decode(lon_range(), lat_range(), r.hash, r.area);
  }

  // Drop the neighbours the shape cannot reach.
  if (steps >= 2) {
    Neighbors& n = r.neighbors;
    if (r.area.lat.min < min_lat) n.south = n.south_west = n.south_east = HashBits{};
    if (r.area.lat.max > max_lat) n.north = n.north_east = n.north_west = HashBits{};
    if (r.area.lon.min < min_lon) n.west = n.south_west = n.north_west = HashBits{};
    if (r.area.lon.max > max_lon) n.east = n.south_east = n.north_east = HashBits{};
  }
  return r;
}

bool within_shape(const Shape& shape, const double xy[2], double& dist) {
  if (shape.type == Shape::kCircle) {
    dist = distance(shape.xy[0], shape.xy[1], xy[0], xy[1]);
    return !(dist > shape.radius * shape.conversion);
  }
  const double width_m = shape.width * shape.conversion;
  const double height_m = shape.height * shape.conversion;
  if (lat_distance(xy[1], shape.xy[1]) > height_m / 2) return false;
  if (distance(xy[0], xy[1], shape.xy[0], xy[1]) > width_m / 2) return false;
  dist = distance(shape.xy[0], shape.xy[1], xy[0], xy[1]);
  return true;
}

bool geohash_string(double score, std::string& out) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  double xy[2];
  if (!decode_score(score, xy)) return false;
  HashBits h;
  encode(Range{-180, 180}, Range{-90, 90}, xy[0], xy[1], 26, h);
  out.assign(11, '0');
  for (int i = 0; i < 10; ++i) out[static_cast<size_t>(i)] = kAlphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
  out[10] = kAlphabet[0];  // 52 bits make 10.4 characters; the 11th is always '0'
  return true;
}

}  // namespace distcache::storage::geo
