#pragma once
// Geohash arithmetic for the GEO commands, with the conventions of Redis so
// that scores, decoded coordinates, distances and search results are
// bit-for-bit the same:
//  - a position is stored as a 52-bit integer score: 26 bits of latitude and
//    26 bits of longitude interleaved (latitude in the even bits), over the
//    longitude range [-180, 180] and the Web-Mercator latitude range
//    [-85.05112878, 85.05112878];
//  - distances use the haversine formula on a sphere of radius
//    6372797.560856 m;
//  - a radius/box search scans the geohash cell containing the centre plus
//    its 8 neighbours, at a precision (step) chosen from the search size.
#include <cstdint>
#include <string>

namespace distcache::storage::geo {

inline constexpr double kLonMin = -180.0;
inline constexpr double kLonMax = 180.0;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
inline constexpr int kStepMax = 26;  // 52 bits
inline constexpr double kEarthRadiusMeters = 6372797.560856;

struct Range {
  double min = 0, max = 0;
  bool zero() const { return min == 0 && max == 0; }
};

struct HashBits {
  uint64_t bits = 0;
  uint8_t step = 0;
  bool zero() const { return bits == 0 && step == 0; }
};

struct Area {
  HashBits hash;
  Range lon, lat;
};

struct Neighbors {
  HashBits north, east, west, south, north_east, south_east, north_west, south_west;
};

inline Range lon_range() { return {kLonMin, kLonMax}; }
inline Range lat_range() { return {kLatMin, kLatMax}; }

// Interleaved hash of a position at `step` bits per coordinate; false if the
// position is outside the GEO limits or the given ranges.
bool encode(Range lon_r, Range lat_r, double lon, double lat, int step, HashBits& out);
inline bool encode_wgs84(double lon, double lat, int step, HashBits& out) {
  return encode(lon_range(), lat_range(), lon, lat, step, out);
}
// The cell a hash designates; false for a zero hash.
bool decode(Range lon_r, Range lat_r, HashBits hash, Area& out);
// The centre of a WGS84 cell, clamped to the GEO limits: xy[0] longitude,
// xy[1] latitude.
bool decode_to_lonlat(HashBits hash, double xy[2]);
// The hash shifted to 52 bits (the score form).
uint64_t align52(HashBits hash);
Neighbors neighbors(HashBits hash);

// Score (a double) -> hash bits, converting as a C cast on x86-64 does for
// any value (out-of-range values included), then decode.
uint64_t score_to_bits(double score);
bool decode_score(double score, double xy[2]);
// Score for a position (the encoded cell at full precision).
double score_of(double lon, double lat);

// Great-circle distance in meters.
double distance(double lon1, double lat1, double lon2, double lat2);
// Distance along a meridian.
double lat_distance(double lat1, double lat2);

// The search shape of GEOSEARCH / GEORADIUS. Sizes are in `unit`s
// (conversion = meters per unit).
struct Shape {
  enum Type { kCircle, kBox } type = kCircle;
  double xy[2] = {0, 0};  // centre: longitude, latitude
  double conversion = 1;
  double radius = 0;
  double width = 0, height = 0;
};

// The centre cell and the (non-useless) neighbours that cover the shape.
struct SearchArea {
  HashBits hash;
  Neighbors neighbors;
  Area area;
};
SearchArea search_area(const Shape& shape);

// Whether the point is inside the shape; `dist` receives its distance from
// the centre (meters).
bool within_shape(const Shape& shape, const double xy[2], double& dist);

// GEOHASH's 11-character standard geohash of a score (re-encoded over
// latitude [-90, 90]); false if the score does not decode.
bool geohash_string(double score, std::string& out);

}  // namespace distcache::storage::geo
