// libFuzzer target: the request parser (protocol/resp_parser.h).
//
// The input is fed to the parser twice: in one piece, and split at points
// chosen by the first bytes. Both runs must never read out of bounds, must
// consume only what they were given, and (since the parser is incremental)
// must yield the same commands, up to the first protocol error.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_parser.h"
#include "tests/fuzz/fuzz_check.h"

using distcache::protocol::ArgList;
using distcache::protocol::RespParser;

namespace {

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  bool error = false;
  bool big = false;  // an error about a line or length limit: depends on how input was split
};

Outcome run(std::string_view input, const std::vector<size_t>& cuts, const distcache::protocol::ParserLimits& limits) {
  Outcome o;
  RespParser parser;
  parser.limits() = limits;
  ArgList args;
  size_t start = 0;
  size_t piece = 0;
  while (start < input.size() || piece == 0) {
    size_t len = input.size() - start;
    if (piece < cuts.size() && cuts[piece] < len) len = cuts[piece];
    ++piece;
    std::string chunk(input.substr(start, len));  // own buffer: ASan catches reads past it
    std::string_view rest(chunk);
    start += len;
    for (int guard = 0;; ++guard) {
      if (guard > 1'000'000) distcache::fuzz::fail("parser does not make progress");
      size_t consumed = 0;
      auto st = parser.parse(rest, consumed, args);
      if (consumed > rest.size()) distcache::fuzz::fail("consumed more than given");
      rest.remove_prefix(consumed);
      if (st == RespParser::Status::kError) {
        o.error = true;
        const std::string& e = parser.error();
        if (e.rfind("ERR Protocol error: ", 0) != 0) distcache::fuzz::fail("unexpected error text", e);
        o.big = e.find("too big") != std::string::npos;
        size_t c2 = 0;
        if (parser.parse("x", c2, args) != RespParser::Status::kError || c2 != 0)
          distcache::fuzz::fail("parser left its error state without reset()");
        return o;
      }
      if (st == RespParser::Status::kNeedMore) {
        if (!rest.empty()) distcache::fuzz::fail("kNeedMore with input left");
        break;
      }
      if (args.size() > 0) o.commands.push_back(args.to_vector());
      if (rest.empty()) break;
    }
    if (len == 0 && start >= input.size()) break;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: limits; byte 1: how to split.
  distcache::protocol::ParserLimits limits;
  const uint8_t mode = data[0];
  if (mode & 1) limits.max_inline_len = 16 + (mode >> 4) * 8;
  if (mode & 2) limits.proto_max_bulk_len = 1 + (mode >> 2);
  if (mode & 4) limits.unauthenticated = true;
  if (mode & 8) limits.max_multibulk_len = 3;
  const uint8_t split = data[1];
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  Outcome whole = run(input, {}, limits);
  std::vector<size_t> cuts;
  if (split == 0) {
    cuts.assign(input.size(), 1);  // byte by byte
  } else {
    uint32_t x = split * 2654435761u;
    for (size_t i = 0; i < 64; ++i) {
      x = x * 1103515245u + 12345u;
      cuts.push_back(1 + (x >> 16) % (split % 32 + 1));
    }
  }
  Outcome pieces = run(input, cuts, limits);

  const size_t n = std::min(whole.commands.size(), pieces.commands.size());
  for (size_t i = 0; i < n; ++i)
    if (whole.commands[i] != pieces.commands[i]) distcache::fuzz::fail("split input gave different commands");
  if (!whole.error && !pieces.error && whole.commands.size() != pieces.commands.size())
    distcache::fuzz::fail("split input gave a different number of commands");
  if (whole.error != pieces.error && !whole.big && !pieces.big) {
    // Only the "too big" limits may depend on how the input arrived; any
    // other error must show up however the bytes are split, unless the
    // input simply stopped before the bad part in the other run.
    const Outcome& ok = whole.error ? pieces : whole;
    const Outcome& bad = whole.error ? whole : pieces;
    if (ok.commands.size() > bad.commands.size()) distcache::fuzz::fail("error depends on how input was split");
  }
  return 0;
}
