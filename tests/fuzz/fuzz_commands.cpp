// libFuzzer target: random command sequences executed in-process against a
// keyspace through the command table (every keyed command except scripting).
//
// Input: byte 0 = options (bit 0: RESP3), then lines separated by '\n',
// arguments separated by ' '. Pseudo commands: "~<ms>" advances the clock,
// "@<db>" selects a database. Checks after every command: the reply is one
// well-formed RESP reply, key extraction stays within the arguments, no empty
// collection (other than a stream) is left in the keyspace; at the end every
// key's value must DUMP and RESTORE.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/dump_payload.h"
#include "storage/numbers.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr size_t kMaxCommands = 128;
constexpr size_t kMaxArgs = 64;

// Integer arguments beyond this make legitimate, huge replies or allocations
// (SRANDMEMBER k -1000000000, LPOS ... MAXLEN, SETBIT offsets): skipped.
bool too_big_number(std::string_view a) {
  if (a.size() < 7) return false;
  size_t digits = 0;
  for (char c : a) digits += (c >= '0' && c <= '9');
  return digits >= 7;
}

void check_no_empty_collections(distcache::fuzz::CommandExecutor& ex, std::string_view cmd) {
  ex.dbs.db(static_cast<size_t>(ex.db_index)).for_each(ex.now_ms, [&](std::string_view key, const distcache::storage::Value& v) {
    if (!v.is_string() && v.type() != distcache::storage::ValueType::kStream && v.collection()->length() == 0)
      distcache::fuzz::fail("empty collection left in the keyspace after", cmd);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  distcache::fuzz::CommandExecutor ex;
  ex.resp_version = (data[0] & 1) ? 3 : 2;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  distcache::protocol::ArgList args;
  size_t commands = 0;
  while (!input.empty() && commands < kMaxCommands) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (line.empty()) continue;
    if (line[0] == '~') {
      int64_t ms = 0;
      if (distcache::storage::parse_int64(line.substr(1), ms) && ms >= 0 && ms < 1'000'000'000) ex.now_ms += ms;
      continue;
    }
    if (line[0] == '@' && line.size() == 2 && line[1] >= '0' && line[1] <= '9') {
      ex.db_index = line[1] - '0';
      continue;
    }
    args.clear();
    bool skip = false;
    size_t pos = 0;
    while (pos <= line.size() && args.size() < kMaxArgs) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      std::string_view word = line.substr(pos, sp - pos);
      if (!word.empty()) {
        if (too_big_number(word)) skip = true;
        args.add(word);
      }
      pos = sp + 1;
    }
    if (skip || args.empty()) continue;
    ++commands;
    ex.run(args);
    check_no_empty_collections(ex, line);
  }
  for (int db = 0; db < 10; ++db) {
    ex.dbs.db(db).for_each(ex.now_ms, [&](std::string_view key, const distcache::storage::Value& v) {
      const std::string payload = distcache::persistence::dump_value(v);
      std::string err;
      if (!distcache::persistence::restore_value(payload, &err)) distcache::fuzz::fail("DUMP payload does not RESTORE", err);
    });
  }
  return 0;
}
