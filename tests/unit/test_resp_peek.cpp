#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/resp_peek.h"

using distcache::protocol::peek_first_keys;

namespace {
std::vector<std::string> peek(const std::string& in, size_t max = 100) {
  std::vector<std::string> keys;
  peek_first_keys(in.data(), in.size(), max, [&](std::string_view k) { keys.emplace_back(k); });
  return keys;
}
}  // namespace

TEST_CASE("peek_first_keys: second argument of each complete request", "[resp_peek]") {
  const std::string pipeline =
      "*3\r\n$3\r\nSET\r\n$4\r\nk:01\r\n$1\r\nv\r\n"
      "*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n";
  CHECK(peek(pipeline) == std::vector<std::string>{"k:01", "", "ctr"});
  CHECK(peek(pipeline, 1) == std::vector<std::string>{"k:01"});
}

TEST_CASE("peek_first_keys: stops at anything incomplete or unusual", "[resp_peek]") {
  CHECK(peek("*2\r\n$3\r\nGET\r\n$5\r\nab").empty());             // truncated bulk
  CHECK(peek("GET key\r\n").empty());                             // inline
  CHECK(peek("*2\r\n$-1\r\n").empty());                           // negative length
  CHECK(peek("*2\r\n$99999999999999999999\r\n").empty());         // absurd length
  CHECK(peek("*x\r\n").empty());
  CHECK(peek("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3").size() == 1);  // complete one, then a partial
  CHECK(peek("").empty());
}
