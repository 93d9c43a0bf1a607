// GEO commands and the geohash arithmetic behind them (storage/geohash.h).
// The expected bytes of every expect_replies block were captured from
// redis-server 7.0.15 by replaying the block on an empty database ("@type
// key" lines as DEL plus a one-element write of that type).
// tests/integration/test_geo.py compares hundreds of random queries against
// a live redis-server.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>

#include "storage/geohash.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
namespace server = distcache::server;
namespace geo = distcache::storage::geo;
using namespace std::string_literals;

namespace {

CommandRunner make_runner() {
  return CommandRunner({server::geo_command_specs, server::zset_command_specs, server::string_command_specs,
                        server::key_command_specs});
}

}  // namespace

TEST_CASE("geohash: encode, decode and the 52-bit score", "[geo]") {
  // Palermo as Redis stores it.
  CHECK(geo::score_of(13.361389, 38.115556) == 3479099956230698.0);
  double xy[2];
  REQUIRE(geo::decode_score(3479099956230698.0, xy));
  CHECK(std::fabs(xy[0] - 13.361389) < 1e-5);
  CHECK(std::fabs(xy[1] - 38.115556) < 1e-5);
  std::string hash;
  REQUIRE(geo::geohash_string(3479099956230698.0, hash));
  CHECK(hash == "sqc8b49rny0");
  // Out-of-range positions do not encode.
  geo::HashBits h;
  CHECK_FALSE(geo::encode_wgs84(180.0001, 0, 26, h));
  CHECK_FALSE(geo::encode_wgs84(0, 85.06, 26, h));
  CHECK(geo::encode_wgs84(-180, -85.05112878, 26, h));
  CHECK(h.bits == 0);
  // Round trip of cell indexes at every step.
  for (int step = 1; step <= 26; ++step) {
    REQUIRE(geo::encode_wgs84(12.5, -33.25, step, h));
    geo::Area a;
    REQUIRE(geo::decode(geo::lon_range(), geo::lat_range(), h, a));
    CHECK(a.lon.min <= 12.5);
    CHECK(a.lon.max >= 12.5);
    CHECK(a.lat.min <= -33.25);
    CHECK(a.lat.max >= -33.25);
  }
}

TEST_CASE("geohash: neighbours wrap around the edges of the map", "[geo]") {
  geo::HashBits h;
  REQUIRE(geo::encode_wgs84(179.99, 0.01, 4, h));
  const geo::Neighbors n = geo::neighbors(h);
  geo::Area centre, east, west, north;
  geo::decode(geo::lon_range(), geo::lat_range(), h, centre);
  geo::decode(geo::lon_range(), geo::lat_range(), n.east, east);
  geo::decode(geo::lon_range(), geo::lat_range(), n.west, west);
  geo::decode(geo::lon_range(), geo::lat_range(), n.north, north);
  CHECK(east.lon.min == -180);  // east of the last column is the first one
  CHECK(west.lon.max == centre.lon.min);
  CHECK(north.lat.min == centre.lat.max);
  CHECK(north.lon.min == centre.lon.min);
}

TEST_CASE("geohash: distances use Redis's sphere", "[geo]") {
  // (GEODIST reports 166274.1516 for the decoded, cell-centre positions.)
  CHECK(std::fabs(geo::distance(13.361389, 38.115556, 15.087269, 37.502669) - 166274.26) < 0.01);
  // Along a meridian the distance is the latitude difference on the sphere.
  CHECK(geo::distance(10, 0, 10, 1) == geo::lat_distance(0, 1));
  CHECK(std::fabs(geo::lat_distance(0, 1) - geo::kEarthRadiusMeters * M_PI / 180) < 1e-6);
  CHECK(geo::distance(1, 2, 1, 2) == 0);
}

TEST_CASE("geohash: x86 conversion of any score to hash bits", "[geo]") {
  CHECK(geo::score_to_bits(-1.0) == UINT64_MAX);
  CHECK(geo::score_to_bits(1e300) == 0);
  CHECK(geo::score_to_bits(-1e300) == 0x8000000000000000ULL);
  CHECK(geo::score_to_bits(0.5) == 0);
  CHECK(geo::score_to_bits(9223372036854775808.0) == 0x8000000000000000ULL);
  CHECK(geo::score_to_bits(12345.0) == 12345);
}

TEST_CASE("GEOADD GEOPOS GEOHASH GEODIST", "[geo]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2\r\n"},
         {"zrange Sicily 0 -1 withscores", "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
         {"geopos Sicily Palermo Catania NonExisting", "*3\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*-1\r\n"},
         {"geohash Sicily Palermo Catania nope", "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"},
         {"geodist Sicily Palermo Catania", "$11\r\n166274.1516\r\n"},
         {"geodist Sicily Palermo Catania km", "$8\r\n166.2742\r\n"},
         {"geodist Sicily Palermo Catania MI", "$8\r\n103.3182\r\n"},
         {"geodist Sicily Palermo Catania ft", "$11\r\n545518.8700\r\n"},
         {"geodist Sicily Palermo Palermo", "$6\r\n0.0000\r\n"},
         {"geodist Sicily Palermo nope", "$-1\r\n"},
         {"geodist Sicily Palermo Catania furlong", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
         {"geodist Sicily Palermo Catania km x", "-ERR syntax error\r\n"},
         {"geodist nokey a b", "$-1\r\n"},
         {"geopos nokey a b", "*2\r\n*-1\r\n*-1\r\n"},
         {"geohash nokey a", "*1\r\n$-1\r\n"},
         {"geoadd Sicily nx 13 38 Palermo 1 1 New", ":1\r\n"},
         {"geoadd Sicily xx ch 13 38 Palermo 2 2 Other", ":1\r\n"},
         {"geoadd Sicily ch 13 38 Palermo", ":0\r\n"},
         {"geoadd nokey xx 1 1 a", ":0\r\n"},
         {"exists nokey", ":0\r\n"},
         {"geoadd edges 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero 179.9999999 0 east", ":4\r\n"},
         {"zrange edges 0 -1 withscores", "*8\r\n$2\r\nsw\r\n$1\r\n0\r\n$4\r\nzero\r\n$16\r\n3377699720527872\r\n$4\r\neast\r\n$16\r\n4128299658422954\r\n$2\r\nne\r\n$17\r\n13510798882111488\r\n"},
         {"geopos edges ne sw zero east", "*4\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$19\r\n0.00000268220901489\r\n$19\r\n0.00000126736058093\r\n*2\r\n$21\r\n179.99999731779098511\r\n$19\r\n0.00000126736058093\r\n"},
         {"geohash edges ne sw zero east", "*4\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\ns0000000000\r\n$11\r\nxbpbpbpbpb0\r\n"},
         {"geodist edges ne sw km", "$10\r\n18919.8446\r\n"},
         {"geodist edges zero east", "$13\r\n20020733.3421\r\n"},
         {"geoadd Sicily 200 10 x", "-ERR invalid longitude,latitude pair 200.000000,10.000000\r\n"},
         {"geoadd Sicily 10 86 x", "-ERR invalid longitude,latitude pair 10.000000,86.000000\r\n"},
         {"geoadd Sicily abc 10 x", "-ERR value is not a valid float\r\n"},
         {"geoadd Sicily 10 abc x", "-ERR value is not a valid float\r\n"},
         {"geoadd Sicily nx xx 1 2 x", "-ERR syntax error\r\n"},
         {"geoadd Sicily nx 1 2", "-ERR syntax error\r\n"},
         {"geoadd Sicily ch ch ch", "-ERR syntax error\r\n"},
         {"geoadd Sicily 1 2 a 3", "-ERR syntax error\r\n"},
         {"zadd notgeo -1 neg 1e300 huge 0.5 half", ":3\r\n"},
         {"geopos notgeo neg huge half", "*3\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n"},
         {"geohash notgeo neg huge half", "*3\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\n00bh0hbj200\r\n"},
         {"@list l", "+OK\r\n"},
         {"geoadd l 1 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"geopos l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"geohash l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"geodist l a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("GEORADIUS and GEORADIUSBYMEMBER", "[geo]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento", ":3\r\n"},
         {"georadius Sicily 15 37 200 km", "*3\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
         {"georadius Sicily 15 37 200 km withdist withcoord withhash asc", "*3\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*4\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n:3479030013248308\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"},
         {"georadius Sicily 15 37 200 km desc withdist", "*3\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"},
         {"georadius Sicily 15 37 200 km count 1", "*1\r\n$7\r\nCatania\r\n"},
         {"georadius Sicily 15 37 200 km count 2 desc", "*2\r\n$7\r\nPalermo\r\n$9\r\nAgrigento\r\n"},
         {"georadius Sicily 15 37 200 km count 1 any", "*1\r\n$9\r\nAgrigento\r\n"},
         {"georadius Sicily 15 37 100000 m withdist", "*1\r\n*2\r\n$7\r\nCatania\r\n$10\r\n56441.2579\r\n"},
         {"georadius Sicily 15 37 124.3 mi withdist", "*3\r\n*2\r\n$9\r\nAgrigento\r\n$7\r\n81.0416\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n118.3357\r\n*2\r\n$7\r\nCatania\r\n$7\r\n35.0711\r\n"},
         {"georadius Sicily 15 37 0 km", "*0\r\n"},
         {"georadius Sicily 15.087269 37.502669 0 km", "*0\r\n"},
         {"georadiusbymember Sicily Agrigento 100 km withdist", "*2\r\n*2\r\n$9\r\nAgrigento\r\n$6\r\n0.0000\r\n*2\r\n$7\r\nPalermo\r\n$7\r\n90.9778\r\n"},
         {"georadiusbymember Sicily Palermo 1 km", "*1\r\n$7\r\nPalermo\r\n"},
         {"georadius Sicily 15 37 200 km store dst", ":3\r\n"},
         {"zrange dst 0 -1 withscores", "*6\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
         {"georadius Sicily 15 37 200 km storedist dst", ":3\r\n"},
         {"zrange dst 0 -1 withscores", "*6\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"},
         {"georadius Sicily 15 37 200 km count 1 store dst storedist dst2", ":1\r\n"},
         {"exists dst", ":1\r\n"},
         {"zrange dst2 0 -1 withscores", "*2\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n"},
         {"georadius Sicily 1 1 1 km store dst2", ":0\r\n"},
         {"exists dst2", ":0\r\n"},
         {"georadiusbymember Sicily Palermo 200 km store dst", ":3\r\n"},
         {"zrange dst 0 -1", "*3\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
         {"georadius_ro Sicily 15 37 200 km withdist", "*3\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"},
         {"georadiusbymember_ro Sicily Palermo 200 km count 1", "*1\r\n$7\r\nPalermo\r\n"},
         {"georadius_ro Sicily 15 37 1 km store d", "-ERR syntax error\r\n"},
         {"georadiusbymember_ro Sicily Palermo 200 km storedist d", "-ERR syntax error\r\n"},
         {"georadius Sicily 15 37 -1 km", "-ERR radius cannot be negative\r\n"},
         {"georadius Sicily 15 37 x km", "-ERR need numeric radius\r\n"},
         {"georadius Sicily 15 37 1 xx", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
         {"georadius Sicily 15 37 1 km count 0", "-ERR COUNT must be > 0\r\n"},
         {"georadius Sicily 15 37 1 km count x", "-ERR value is not an integer or out of range\r\n"},
         {"georadius Sicily 15 37 1 km store", "-ERR syntax error\r\n"},
         {"georadius Sicily 15 37 1 km store d withdist", "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
         {"georadius Sicily 15 37 1 km any", "-ERR the ANY argument requires COUNT argument\r\n"},
         {"georadius Sicily 15 37 1 km junk", "-ERR syntax error\r\n"},
         {"georadius Sicily 200 37 1 km", "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"},
         {"georadius nokey 15 37 1 km", "*0\r\n"},
         {"georadius nokey 15 37 1 km store d", ":0\r\n"},
         {"georadiusbymember nokey m abc km", "*0\r\n"},
         {"georadiusbymember Sicily nope 100 km", "-ERR could not decode requested zset member\r\n"},
         {"georadiusbymember Sicily Palermo x km", "-ERR need numeric radius\r\n"},
         {"@hash h", "+OK\r\n"},
         {"georadius h 15 37 1 km", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"georadiusbymember h a 1 km", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("GEOSEARCH and GEOSEARCHSTORE", "[geo]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento", ":3\r\n"},
         {"geosearch Sicily frommember Palermo byradius 200 km", "*3\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
         {"geosearch Sicily fromlonlat 15 37 bybox 400 400 km withdist asc", "*3\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"},
         {"geosearch Sicily fromlonlat 15 37 bybox 400 400 km withcoord withhash desc", "*3\r\n*3\r\n$7\r\nPalermo\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*3\r\n$9\r\nAgrigento\r\n:3479030013248308\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n*3\r\n$7\r\nCatania\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"},
         {"geosearch Sicily fromlonlat 15 37 byradius 300 km count 1 any desc", "*1\r\n$9\r\nAgrigento\r\n"},
         {"geosearch Sicily fromlonlat 15 37 byradius 300 km count 1 desc", "*1\r\n$7\r\nPalermo\r\n"},
         {"geosearch Sicily frommember Agrigento bybox 100 50 mi", "*1\r\n$9\r\nAgrigento\r\n"},
         {"geosearch Sicily frommember Agrigento bybox 0 0 km", "*1\r\n$9\r\nAgrigento\r\n"},
         {"geosearchstore dst Sicily fromlonlat 15 37 byradius 300 km storedist", ":3\r\n"},
         {"zrange dst 0 -1 withscores", "*6\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"},
         {"geosearchstore dst Sicily fromlonlat 15 37 byradius 300 km count 2", ":2\r\n"},
         {"zrange dst 0 -1 withscores", "*4\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
         {"geosearchstore dst Sicily fromlonlat 0 0 byradius 1 km", ":0\r\n"},
         {"exists dst", ":0\r\n"},
         {"geosearch Sicily frommember Palermo fromlonlat 1 2 byradius 1 km", "-ERR syntax error\r\n"},
         {"geosearch Sicily frommember Palermo byradius 1 km bybox 1 1 km", "-ERR syntax error\r\n"},
         {"geosearch Sicily frommember Palermo byradius 1 km any", "-ERR the ANY argument requires COUNT argument\r\n"},
         {"geosearchstore dst Sicily frommember Palermo byradius 1 km withdist", "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
         {"geosearch Sicily frommember Palermo byradius 1 km store d", "-ERR syntax error\r\n"},
         {"geosearch Sicily frommember nope byradius 1 km", "-ERR could not decode requested zset member\r\n"},
         {"geosearch nokey frommember nope byradius 1 km", "*0\r\n"},
         {"geosearchstore dst nokey frommember nope byradius 1 km", ":0\r\n"},
         {"geosearch Sicily fromlonlat 200 1 byradius 1 km", "-ERR invalid longitude,latitude pair 200.000000,1.000000\r\n"},
         {"geosearch Sicily fromlonlat 1 1 bybox -1 1 km", "-ERR height or width cannot be negative\r\n"},
         {"geosearch Sicily fromlonlat 1 1 bybox x 1 km", "-ERR need numeric width\r\n"},
         {"geosearch Sicily fromlonlat 1 1 bybox 1 x km", "-ERR need numeric height\r\n"},
         {"geosearch Sicily fromlonlat 1 1 byradius x km", "-ERR need numeric radius\r\n"},
         {"geosearch Sicily byradius 1 km withdist asc", "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch\r\n"},
         {"GeoSearch Sicily fromlonlat 1 1 withdist asc", "-ERR exactly one of BYRADIUS and BYBOX can be specified for GeoSearch\r\n"},
         {"geosearch Sicily fromlonlat 1 1 byradius 1 km storedist", "-ERR syntax error\r\n"},
         {"geosearch Sicily fromlonlat 1 byradius 1 km asc", "-ERR value is not a valid float\r\n"},
         {"geosearch Sicily frommember Palermo withdist asc desc", "-ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch\r\n"},
     });
}

TEST_CASE("GEO replies over RESP3", "[geo]") {
  CommandRunner r = make_runner();
  r.resp_version = 3;
  expect_replies(r, {
         {"geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2\r\n"},
         {"geopos Sicily Palermo nope", "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"},
         {"geodist Sicily Palermo Catania", "$11\r\n166274.1516\r\n"},
         {"geohash Sicily Palermo", "*1\r\n$11\r\nsqc8b49rny0\r\n"},
         {"georadius Sicily 15 37 200 km withdist withcoord withhash asc", "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"},
         {"geosearch Sicily fromlonlat 15 37 bybox 400 400 km withcoord", "*2\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n*2\r\n$7\r\nCatania\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"},
     });
}

