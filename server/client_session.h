#pragma once
// Per-connection state that commands read and change (SELECT, HELLO, CLIENT
// SETNAME ...). Plain data: owned by the Connection, touched only on its thread.
#include <cstdint>
#include <string>
#include <string_view>

namespace distcache::server {

struct ClientSession {
  uint64_t id = 0;
  int db = 0;
  int resp = 2;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  std::string peer;            // "ip:port"
  std::string local;           // "ip:port"
  int fd = -1;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string_view last_command = "NULL";  // points into the static command table
  bool authenticated = true;
  std::string user = "default";
  bool close_after_reply = false;
  uint64_t commands_processed = 0;
};

}  // namespace distcache::server
