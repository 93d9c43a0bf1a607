// Keyspace notifications raised by command handlers and storage, the
// notify-keyspace-events option, and the RESP2 subscribed-mode rules.
// Delivery across threads is covered by tests/integration/test_pubsub.py.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "command_test_util.h"
#include "server/client_session.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/keyspace_events.h"
#include "server/pubsub.h"

using distcache::test::CommandRunner;
namespace server = distcache::server;
namespace notify = distcache::server::notify;

namespace {

// Collects the events of one runner; removes the sink when done.
class EventLog {
 public:
  EventLog(CommandRunner& r, uint32_t flags) : runner_(r) {
    r.config.notify_keyspace_events.store(flags);
    server::set_keyspace_event_sink(flags, &r.dbs, [this](int db, std::string_view event, std::string_view key) {
      events_.push_back(std::to_string(db) + ":" + std::string(event) + ":" + std::string(key));
    });
  }
  ~EventLog() {
    server::set_keyspace_event_sink(0, nullptr, nullptr);
    runner_.config.notify_keyspace_events.store(0);
  }
  // The events since the last call.
  std::vector<std::string> take() {
    std::vector<std::string> out;
    out.swap(events_);
    return out;
  }

 private:
  CommandRunner& runner_;
  std::vector<std::string> events_;
};

using Events = std::vector<std::string>;

}  // namespace

TEST_CASE("keyspace events of string and generic commands", "[pubsub]") {
  CommandRunner r({server::string_command_specs, server::key_command_specs});
  EventLog log(r, notify::kKeyspace | notify::kKeyevent | notify::kAll | notify::kNew);

  r.run("SET a 1");
  CHECK(log.take() == Events{"0:new:a", "0:set:a"});
  r.run("SET a 2 EX 100");
  CHECK(log.take() == Events{"0:set:a", "0:expire:a"});
  r.run("SET a 3 NX");
  CHECK(log.take().empty());
  r.run("INCR n");
  CHECK(log.take() == Events{"0:new:n", "0:incrby:n"});
  r.run("APPEND a x");
  CHECK(log.take() == Events{"0:append:a"});
  r.run("SETRANGE nokey 0 \"\"");
  CHECK(log.take().empty());
  r.run("MSET b 1 c 2");
  CHECK(log.take() == Events{"0:new:b", "0:set:b", "0:new:c", "0:set:c"});
  r.run("DEL b c nokey");
  CHECK(log.take() == Events{"0:del:b", "0:del:c"});
  r.run("RENAME a z");
  CHECK(log.take() == Events{"0:new:z", "0:rename_from:a", "0:rename_to:z"});
  r.run("COPY z y DB 3");
  CHECK(log.take() == Events{"3:new:y", "3:copy_to:y"});
  r.run("MOVE z 5");
  CHECK(log.take() == Events{"5:new:z", "0:move_from:z", "5:move_to:z"});
  r.run("SET p 1");
  log.take();
  r.run("EXPIRE p -1");
  CHECK(log.take() == Events{"0:del:p"});
  r.run("SET q 1 PX 10");
  log.take();
  r.now_ms += 100;
  CHECK(r.run("GET q") == "$-1\r\n");
  CHECK(log.take() == Events{"0:expired:q"});  // lazy expiry, raised by storage
}

TEST_CASE("keyspace event classes filter what is reported", "[pubsub]") {
  CommandRunner r({server::string_command_specs, server::key_command_specs, server::list_command_specs});
  SECTION("only list events") {
    EventLog log(r, notify::kKeyevent | notify::kList);
    r.run("RPUSH l a b");
    r.run("SET s v");
    r.run("LPOP l 2");
    CHECK(log.take() == Events{"0:rpush:l", "0:lpop:l"});  // no "del" (generic) nor "set" (string)
  }
  SECTION("without K or E nothing is raised") {
    r.config.notify_keyspace_events.store(notify::kAll);
    CHECK(server::keyspace_notify_flags(r.config) == 0);
    r.config.notify_keyspace_events.store(notify::kKeyspace | notify::kString);
    CHECK(server::keyspace_notify_flags(r.config) == (notify::kKeyspace | notify::kString));
    r.config.notify_keyspace_events.store(0);
  }
}

TEST_CASE("keyspace events of collection commands", "[pubsub]") {
  CommandRunner r({server::list_command_specs, server::hash_command_specs, server::set_command_specs,
                   server::zset_command_specs, server::stream_command_specs});
  EventLog log(r, notify::kKeyevent | notify::kAll);
  r.run("RPUSH src a");
  log.take();
  r.run("LMOVE src dst LEFT RIGHT");
  CHECK(log.take() == Events{"0:rpush:dst", "0:lpop:src", "0:del:src"});
  r.run("HSET h f 1 g 2");
  r.run("HDEL h f g");
  CHECK(log.take() == Events{"0:hset:h", "0:hdel:h", "0:del:h"});
  r.run("SADD s 1 2");
  r.run("SADD s 1");
  r.run("SINTERSTORE d s nokey");
  r.run("SUNIONSTORE d s");
  CHECK(log.take() == Events{"0:sadd:s", "0:sunionstore:d"});
  r.run("ZADD z 1 a");
  r.run("ZADD z 1 a");
  r.run("ZINCRBY z 1 a");
  r.run("ZPOPMIN z");
  CHECK(log.take() == Events{"0:zadd:z", "0:zincr:z", "0:zpopmin:z", "0:del:z"});
  r.run("XADD x 1-1 f v");
  r.run("XGROUP CREATE x g 0");
  r.run("XREADGROUP GROUP g c STREAMS x >");
  CHECK(log.take() == Events{"0:xadd:x", "0:xgroup-create:x", "0:xgroup-createconsumer:x"});
}

TEST_CASE("notify-keyspace-events round-trips in Redis's canonical form", "[pubsub]") {
  server::Config c;
  auto set = [&](const std::string& v) { return server::config_set(c, {{"notify-keyspace-events", v}}); };
  auto get = [&] { return server::config_get(c, "notify-keyspace-events").at(0).second; };
  // Captured from redis-server 7.0.15.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"KEn", "nKE"},       {"A", "A"},        {"Ansm", "Am"},  {"KA", "AK"},       {"Kgn", "gnK"},
      {"AKEmn", "AKEm"},    {"$", "$"},        {"ndtg", "gtdn"}, {"nx", "xn"},       {"g$lshzxetd", "A"},
      {"ndtexzhsl$gKEm", "AKEm"}, {"", ""}};
  for (const auto& [in, out] : cases) {
    INFO(in);
    CHECK_FALSE(set(in));
    CHECK(get() == out);
  }
  CHECK_FALSE(set("KEn"));
  CHECK(c.notify_keyspace_events.load() == (notify::kKeyspace | notify::kKeyevent | notify::kNew));
  CHECK(set("KEQ") ==
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class "
        "character. Use 'Ag$lshzxeKEtmdn'.");
}

TEST_CASE("client-output-buffer-limit feeds the pubsub limits", "[pubsub]") {
  server::Config c;
  CHECK(c.pubsub_obuf_hard.load() == 32 * 1024 * 1024);
  CHECK_FALSE(server::config_set(c, {{"client-output-buffer-limit", "pubsub 1mb 512kb 7"}}));
  CHECK(c.pubsub_obuf_hard.load() == 1024 * 1024);
  CHECK(c.pubsub_obuf_soft.load() == 512 * 1024);
  CHECK(c.pubsub_obuf_soft_seconds.load() == 7);
  CHECK_FALSE(server::config_set(c, {{"client-output-buffer-limit", "normal 1 2 3"}}));
  CHECK(c.pubsub_obuf_hard.load() == 1024 * 1024);  // other classes leave it alone
}

TEST_CASE("RESP2 subscribed clients may run only the pub/sub subset", "[pubsub]") {
  const auto& table = server::CommandTable::instance();
  server::ClientSession session;
  std::string out;
  distcache::protocol::ReplyBuilder reply(&out, 2);
  const server::CommandSpec* get = table.find("get");
  const server::CommandSpec* ping = table.find("ping");
  const server::CommandSpec* config = table.find("config");
  REQUIRE(get);
  REQUIRE(ping);
  REQUIRE(config);
  CHECK(server::pubsub_command_allowed(session, *get, reply));  // not subscribed
  session.subscribed_patterns = 1;
  CHECK(server::pubsub_command_allowed(session, *ping, reply));
  CHECK(out.empty());
  CHECK_FALSE(server::pubsub_command_allowed(session, *get, reply));
  CHECK(out ==
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
        "this context\r\n");
  out.clear();
  const server::CommandSpec* config_get = server::CommandTable::find_subcommand(*config, "get");
  REQUIRE(config_get);
  CHECK_FALSE(server::pubsub_command_allowed(session, *config_get, reply));
  CHECK(out.find("'config|get'") != std::string::npos);
  out.clear();
  session.resp = 3;  // RESP3 has no restriction
  CHECK(server::pubsub_command_allowed(session, *get, reply));

  // PING's subscribed-mode reply.
  session.resp = 2;
  distcache::protocol::ArgList args;
  args.add("PING");
  CHECK(server::pubsub_ping(session, args, reply));
  CHECK(out == "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  out.clear();
  args.add("hi");
  CHECK(server::pubsub_ping(session, args, reply));
  CHECK(out == "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
  session.subscribed_patterns = 0;
  CHECK_FALSE(server::pubsub_ping(session, args, reply));
}
