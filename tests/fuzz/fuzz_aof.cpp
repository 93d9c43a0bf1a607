// libFuzzer target: the AOF file loader (persistence/aof_reader.h): RESP
// commands, '#' annotations, MULTI/EXEC blocks, truncated tails, RDB
// preambles. The input is written to an in-memory file (memfd) and read
// through its /proc/self/fd path; loaded commands are executed through the
// command layer (fuzz_util.h), as the server replays them at start-up.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "persistence/aof_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

struct Commands : distcache::persistence::AofCommandHandler {
  distcache::fuzz::CommandExecutor* ex = nullptr;
  size_t count = 0;
  bool execute(const distcache::protocol::ArgList& args, std::string* error) override {
    if (args.empty()) distcache::fuzz::fail("empty command handed over");
    if (++count <= 200) ex->run(args);
    return true;
  }
};

struct Keys : distcache::persistence::RdbLoadHandler {
  distcache::fuzz::CommandExecutor* ex = nullptr;
  bool on_key(std::string&& key, distcache::storage::Value&& value, const distcache::persistence::RdbKeyInfo& info,
              std::string* error) override {
    ex->dbs.db(info.db % 16).set(key, std::move(value));
    return true;
  }
};

int memfd() {
  static int fd = -1;
  if (fd < 0) fd = memfd_create("fuzz-aof", 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int fd = memfd();
  if (fd < 0) return 0;
  if (ftruncate(fd, 0) != 0) return 0;
  if (pwrite(fd, data + 1, size - 1, 0) != static_cast<ssize_t>(size - 1)) return 0;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  distcache::fuzz::CommandExecutor ex;
  Commands commands;
  commands.ex = &ex;
  Keys keys;
  keys.ex = &ex;
  distcache::persistence::AofReadOptions options;
  options.load_truncated = data[0] & 1;
  options.old_style = data[0] & 2;
  options.rdb.verify_checksum = false;
  options.buffer_bytes = 16 + (data[0] >> 2);  // small buffers: commands straddle refills
  options.log = [](bool, const std::string&) {};
  const auto r = distcache::persistence::read_aof_file(path, "appendonly.aof", &keys, commands, options);
  if (r.commands != commands.count) distcache::fuzz::fail("command count mismatch");
  if (r.status == distcache::persistence::AofReadStatus::kTruncated) {
    if (!options.load_truncated) distcache::fuzz::fail("truncated although aof-load-truncated is off");
    struct stat st;
    if (fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) != r.size)
      distcache::fuzz::fail("file size differs from the reported size after truncation");
  }
  if (r.valid_up_to > size - 1) distcache::fuzz::fail("valid_up_to beyond the file");
  return 0;
}
