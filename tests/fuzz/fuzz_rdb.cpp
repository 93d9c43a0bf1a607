// libFuzzer target: the RDB file loader (persistence/rdb_reader.h), on
// untrusted bytes. Checksums are not verified, so that mutations reach the
// decoders; every key that loads is then used through the command layer
// (fuzz_util.h exercise_value) and must DUMP/RESTORE.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/rdb_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

struct Loader : distcache::persistence::RdbLoadHandler {
  size_t keys = 0;
  bool on_key(std::string&& key, distcache::storage::Value&& value, const distcache::persistence::RdbKeyInfo& info,
              std::string* error) override {
    if (++keys <= 8) distcache::fuzz::exercise_value(value);
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string copy(reinterpret_cast<const char*>(data), size);
  distcache::persistence::MemorySource src(copy);
  Loader loader;
  distcache::persistence::RdbLoadOptions options;
  options.verify_checksum = false;
  options.buffer_bytes = 64;  // small reads: exercise the refill paths
  const auto r = distcache::persistence::load_rdb(src, loader, options);
  if (r.ok && r.keys != loader.keys) distcache::fuzz::fail("key count mismatch");
  if (!r.ok && r.error.empty()) distcache::fuzz::fail("failure without a message");
  if (r.bytes > size) distcache::fuzz::fail("consumed more bytes than the input has");
  return 0;
}
