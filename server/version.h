#pragma once
namespace distcache::server {
inline constexpr const char* kDistcacheVersion = "0.1.0";
// The Redis release whose behaviour we reproduce; reported as redis_version so
// that clients enable the features they would use against it.
inline constexpr const char* kRedisCompatVersion = "7.0.15";
}  // namespace distcache::server
