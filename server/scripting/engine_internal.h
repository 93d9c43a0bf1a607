#pragma once
// Internal to server/scripting: the process-wide registries shared by the Lua
// engine (lua_engine.cpp) and the commands (script_registry.cpp). No Lua here.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "server/scripting/scripting.h"

namespace distcache::server::scripting::detail {

// ---- script cache (EVAL / SCRIPT LOAD)
struct CachedScript {
  std::string body;
  uint32_t flags = 0;
  bool has_shebang = false;
  size_t shebang_len = 0;  // the code compiled is body.substr(shebang_len) (starts at the '\n')
};
std::shared_ptr<const CachedScript> cache_find(std::string_view sha);  // sha: 40 lower-case hex digits
void cache_add(const std::string& sha, std::shared_ptr<const CachedScript> script);
uint64_t cache_generation();

// ---- function libraries
struct Library {
  std::string name;
  std::string code;  // with the shebang line
  std::vector<FunctionInfo> functions;
};
// Case-insensitive function lookup.
bool find_function(std::string_view name, std::shared_ptr<const Library>& lib, size_t& index);
// All libraries and the generation they belong to, read together.
std::vector<std::shared_ptr<const Library>> library_snapshot(uint64_t& generation);
uint64_t functions_generation();

// ---- running scripts
struct RunningEntry {
  std::atomic<bool> kill{false};
  std::atomic<bool> wrote{false};
  bool is_function = false;
  std::string_view name;                  // sha or function name (owned by the runner)
  const protocol::ArgList* args = nullptr;  // the FCALL / EVAL command
  int64_t start_ms = 0;                   // steady clock
};
void register_running(RunningEntry* entry);
void unregister_running(RunningEntry* entry);
int64_t steady_ms();

// ---- math.random: redis-server's rand48 generator, one for the process.
double random_fraction();  // (lrand48() % 2^31-1) / (2^31-1)
void random_seed(int32_t seed);

// ---- shebangs
// EVAL: "#!lua [flags=a,b]\n". Returns false with the error text (without '-').
bool parse_eval_shebang(std::string_view body, CachedScript& out, std::string& error);
// FUNCTION LOAD: "#!<engine> name=<library>\n". code_offset: where the code after the shebang line starts.
bool parse_library_metadata(std::string_view code, std::string& engine, std::string& name, size_t& code_offset,
                            std::string& error);
bool valid_library_name(std::string_view name);  // also for function names
bool parse_flag(std::string_view name, uint32_t& flag);

// ---- Lua side (lua_engine.cpp)
// Runs a library's code in a fresh interpreter to validate it and collect its
// functions (FUNCTION LOAD / RESTORE). Returns false with the error text.
bool compile_library(std::string_view code, size_t code_offset, std::vector<FunctionInfo>& functions,
                     std::string& error);

}  // namespace distcache::server::scripting::detail
