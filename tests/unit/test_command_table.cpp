// The declarative command table: hints derived from it.
#include <catch2/catch.hpp>

#include <string_view>

#include "server/command.h"
#include "server/command_table.h"

using distcache::server::CommandSpec;
using distcache::server::CommandTable;

namespace {
int member_arg(std::string_view name) {
  const CommandSpec* spec = CommandTable::instance().find(name);
  REQUIRE(spec != nullptr);
  return spec->member_arg;
}
}  // namespace

TEST_CASE("member_arg names the member a command looks up first (the pipeline prefetch hint)") {
  CHECK(member_arg("hset") == 2);
  CHECK(member_arg("HGET") == 2);
  CHECK(member_arg("sismember") == 2);
  CHECK(member_arg("zadd") == 3);  // ZADD key score member
  CHECK(member_arg("zincrby") == 3);
  CHECK(member_arg("zscore") == 2);
  // Commands without a member, or whose first member is not fixed.
  CHECK(member_arg("get") == 0);
  CHECK(member_arg("hgetall") == 0);
  CHECK(member_arg("sinter") == 0);
  size_t hinted = 0;
  for (const CommandSpec* spec : CommandTable::instance().all())
    if (spec->member_arg > 0) {
      ++hinted;
      CHECK(spec->first_key == 1);          // the member belongs to the first key's collection
      CHECK(spec->member_arg > spec->first_key);
    }
  CHECK(hinted == 21);
}
