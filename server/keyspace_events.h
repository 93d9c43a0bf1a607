#pragma once
// Keyspace notification classes (notify-keyspace-events), with Redis's bit
// values. Command handlers pass one class with each event
// (CommandContext::notify); the configured flags decide what is published.
#include <cstdint>

namespace distcache::server::notify {

enum : uint32_t {
  kKeyspace = 1u << 0,  // K: publish on __keyspace@<db>__:<key>
  kKeyevent = 1u << 1,  // E: publish on __keyevent@<db>__:<event>
  kGeneric = 1u << 2,   // g: DEL, EXPIRE, RENAME, COPY, MOVE, ...
  kString = 1u << 3,    // $
  kList = 1u << 4,      // l
  kSet = 1u << 5,       // s
  kHash = 1u << 6,      // h
  kZset = 1u << 7,      // z
  kExpired = 1u << 8,   // x: a key expired (lazily or actively)
  kEvicted = 1u << 9,   // e: a key was evicted by maxmemory
  kStream = 1u << 10,   // t
  kKeyMiss = 1u << 11,  // m: a read found no key
  kModule = 1u << 13,   // d
  kNew = 1u << 14,      // n: a key was added
  // 'A': every class except key-miss and new (as Redis).
  kAll = kGeneric | kString | kList | kSet | kHash | kZset | kExpired | kEvicted | kStream | kModule,
};

}  // namespace distcache::server::notify
