// ACL core (server/acl): SHA-256, rule parsing and the ACL LIST description
// (texts from redis-server 7.0.15), permission checks for commands, keys
// (%R~ / %W~), channels and selectors, passwords, the ACL log and the
// protected-mode decision.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/arg_list.h"
#include "server/acl/acl.h"
#include "server/acl/sha256.h"
#include "server/command_table.h"

using namespace distcache::server;
namespace protocol = distcache::protocol;

namespace {

protocol::ArgList args_of(std::initializer_list<std::string_view> words) {
  protocol::ArgList a;
  for (auto w : words) a.add(w);
  return a;
}

const CommandSpec& spec_of(const protocol::ArgList& args) {
  const CommandSpec* spec = CommandTable::instance().find(args[0]);
  REQUIRE(spec != nullptr);
  if (!spec->subcommands.empty()) spec = CommandTable::find_subcommand(*spec, args[1]);
  REQUIRE(spec != nullptr);
  return *spec;
}

acl::Denied check(const acl::User& u, std::initializer_list<std::string_view> words) {
  auto a = args_of(words);
  return acl::check_command(u, spec_of(a), a).reason;
}

acl::User user_with(std::vector<std::string> rules) {
  acl::User u = acl::new_user("t");
  auto err = acl::apply_rules(u, rules);
  INFO(err.value_or(""));
  REQUIRE(!err);
  return u;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors", "[acl]") {
  CHECK(acl::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(acl::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(acl::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(acl::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding boundary cases.
  CHECK(acl::sha256_hex(std::string(55, 'x')).size() == 64);
  CHECK(acl::sha256_hex("password") == "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
}

TEST_CASE("ACL rules are described as Redis 7.0 describes them", "[acl]") {
  CHECK(acl::describe_user(acl::new_user("bob")) == "user bob off resetchannels -@all");
  CHECK(acl::describe_user(user_with({"+@all", "-@dangerous", "allkeys"})) ==
        "user t off ~* resetchannels +@all -@dangerous");
  CHECK(acl::describe_user(user_with({"on", ">pw", "~a", "%R~b", "%W~c", "%RW~d", "&ch*", "+@read", "-@read"})) ==
        "user t on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a %R~b %W~c ~d resetchannels "
        "&ch* -@all");
  CHECK(acl::describe_user(user_with({"+@hash", "+@string"})) == "user t off resetchannels -@all +@string +@hash");
  CHECK(acl::describe_user(user_with({"+@read", "-@write"})) == "user t off resetchannels -@all +@read");
  CHECK(acl::describe_user(user_with({"+config", "-config|get"})) ==
        "user t off resetchannels -@all +config -config|get");
  CHECK(acl::describe_user(user_with({"nopass", "allchannels", "(~x* +get)", "skip-sanitize-payload"})) ==
        "user t off nopass skip-sanitize-payload &* -@all (~x* resetchannels -@all +get)");
  CHECK(acl::describe_user(user_with({">x", "~a", "+get", "reset"})) ==
        "user t off sanitize-payload resetchannels -@all");
  auto u = user_with({"~a", "%R~a", "%W~b", "%R~b"});
  CHECK(acl::describe_keys(u.root) == "~a ~b");
}

TEST_CASE("ACL SETUSER errors have Redis's texts and change nothing", "[acl]") {
  acl::User u = user_with({"on", "+get"});
  const std::string before = acl::describe_user(u);
  auto err = acl::apply_rules(u, {"+set", "foo"});
  REQUIRE(err);
  CHECK(*err == "ERR Error in ACL SETUSER modifier 'foo': Syntax error");
  CHECK(acl::describe_user(u) == before);
  CHECK(*acl::apply_rules(u, {"+nosuch"}) ==
        "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
  CHECK(*acl::apply_rules(u, {"#abc"}) ==
        "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only "
        "lowercase hexadecimal characters");
  CHECK(*acl::apply_rules(u, {"<nope"}) ==
        "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not "
        "exist");
  CHECK(*acl::apply_rules(u, {"(~x", "+get"}) == "ERR Unmatched parenthesis in acl selector starting at '(~x'.");
  CHECK(acl::apply_rules(u, {"~*", "~a"})->find("Adding a pattern after the * pattern (or the 'allkeys' flag)") !=
        std::string::npos);
}

TEST_CASE("ACL command, key and channel permissions", "[acl]") {
  auto u = user_with({"on", "+get", "+set", "+mget", "+publish", "+subscribe", "+psubscribe", "+config|get", "~a*",
                      "%R~r*", "%W~w*", "&ch*"});
  CHECK(check(u, {"get", "a1"}) == acl::Denied::kNone);
  CHECK(check(u, {"get", "b"}) == acl::Denied::kKey);
  CHECK(check(u, {"get", "r1"}) == acl::Denied::kNone);
  CHECK(check(u, {"set", "r1", "x"}) == acl::Denied::kKey);
  CHECK(check(u, {"set", "w1", "x"}) == acl::Denied::kNone);
  CHECK(check(u, {"get", "w1"}) == acl::Denied::kKey);
  CHECK(check(u, {"set", "w1", "x", "GET"}) == acl::Denied::kKey);  // GET reads the old value
  auto rw = user_with({"on", "+@all", "%R~r*", "%W~w*"});
  CHECK(check(rw, {"incr", "w1"}) == acl::Denied::kKey);            // INCR reads and writes
  CHECK(check(rw, {"lpush", "w1", "a"}) == acl::Denied::kNone);     // LPUSH only inserts
  CHECK(check(rw, {"exists", "w1"}) == acl::Denied::kNone);         // EXISTS needs neither
  CHECK(check(rw, {"lmove", "r1", "w1", "left", "left"}) == acl::Denied::kKey);  // the source is read and written
  CHECK(check(rw, {"sunionstore", "w1", "r1", "r2"}) == acl::Denied::kNone);
  CHECK(check(rw, {"sunionstore", "r1", "w1"}) == acl::Denied::kKey);
  CHECK(check(u, {"del", "a1"}) == acl::Denied::kCommand);
  CHECK(check(u, {"config", "get", "port"}) == acl::Denied::kNone);
  CHECK(check(u, {"config", "set", "port", "1"}) == acl::Denied::kCommand);
  CHECK(check(u, {"mget", "a1", "a2"}) == acl::Denied::kNone);
  CHECK(check(u, {"mget", "a1", "zz"}) == acl::Denied::kKey);
  CHECK(check(u, {"publish", "ch1", "m"}) == acl::Denied::kNone);
  CHECK(check(u, {"publish", "other", "m"}) == acl::Denied::kChannel);
  CHECK(check(u, {"subscribe", "ch1", "other"}) == acl::Denied::kChannel);
  CHECK(check(u, {"psubscribe", "ch*"}) == acl::Denied::kNone);
  CHECK(check(u, {"psubscribe", "c*"}) == acl::Denied::kChannel);  // patterns must match literally
  CHECK(check(u, {"auth", "x"}) == acl::Denied::kNone);              // no-auth commands are always allowed
  auto a = args_of({"mget", "a1", "zz"});
  CHECK(acl::check_command(u, spec_of(a), a).arg_index == 2);
}

TEST_CASE("ACL selectors: any selector may allow a command", "[acl]") {
  auto u = user_with({"on", "+get", "~a*", "(+set ~b*)", "(+del %W~c*)"});
  CHECK(check(u, {"get", "a1"}) == acl::Denied::kNone);
  CHECK(check(u, {"get", "b1"}) == acl::Denied::kKey);
  CHECK(check(u, {"set", "b1", "x"}) == acl::Denied::kNone);
  CHECK(check(u, {"set", "a1", "x"}) == acl::Denied::kKey);
  CHECK(check(u, {"del", "c1"}) == acl::Denied::kNone);
  CHECK(check(u, {"incr", "a1"}) == acl::Denied::kCommand);
}

TEST_CASE("ACL users, passwords and the default user", "[acl]") {
  REQUIRE(!acl::set_user("unit-alice", {"on", ">secret", "~*", "+@all"}));
  CHECK(acl::check_password("unit-alice", "secret"));
  CHECK_FALSE(acl::check_password("unit-alice", "wrong"));
  CHECK_FALSE(acl::check_password("unit-nobody", "secret"));
  REQUIRE(!acl::set_user("unit-alice", {"off"}));
  CHECK_FALSE(acl::check_password("unit-alice", "secret"));
  CHECK(acl::delete_user("unit-alice") == 1);
  CHECK(acl::delete_user("unit-alice") == 0);

  const uint64_t gen = acl::generation();
  acl::set_requirepass("pw");
  CHECK(acl::generation() > gen);
  CHECK_FALSE(acl::default_user_nopass());
  CHECK(acl::check_password("default", "pw"));
  CHECK_FALSE(acl::check_password("default", "other"));
  acl::set_requirepass("");
  CHECK(acl::default_user_nopass());
  CHECK(acl::describe_user(*acl::find_user("default")) == "user default on nopass ~* &* +@all");
}

TEST_CASE("ACL LOG groups repeated denials", "[acl]") {
  acl::log_reset();
  acl::log_denied(acl::Denied::kKey, "toplevel", "k", "u", "id=1");
  acl::log_denied(acl::Denied::kCommand, "toplevel", "del", "u", "id=1");
  acl::log_denied(acl::Denied::kKey, "toplevel", "k", "u", "id=2");
  auto entries = acl::log_entries(10);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].reason == "key");
  CHECK(entries[0].count == 2);
  CHECK(entries[0].client_info == "id=2");
  CHECK(entries[1].reason == "command");
  CHECK(acl::log_entries(1).size() == 1);
  acl::log_reset();
  CHECK(acl::log_entries(10).empty());
}

TEST_CASE("protected mode refuses non-loopback clients only without a password", "[acl]") {
  CHECK(acl::protected_mode_refuses(true, true, "192.0.2.5"));
  CHECK(acl::protected_mode_refuses(true, true, "::ffff:10.0.0.1"));
  CHECK_FALSE(acl::protected_mode_refuses(true, true, "127.0.0.1"));
  CHECK_FALSE(acl::protected_mode_refuses(true, true, "127.1.2.3"));
  CHECK_FALSE(acl::protected_mode_refuses(true, true, "::1"));
  CHECK_FALSE(acl::protected_mode_refuses(true, true, "::ffff:127.0.0.1"));
  CHECK_FALSE(acl::protected_mode_refuses(false, true, "192.0.2.5"));
  CHECK_FALSE(acl::protected_mode_refuses(true, false, "192.0.2.5"));
  CHECK(acl::kProtectedModeDenied.starts_with("-DENIED Redis is running in protected mode"));
  CHECK(acl::kProtectedModeDenied.ends_with("\r\n"));
}

TEST_CASE("acl-pubsub-default: new users, reset and new selectors start from it", "[acl]") {
  struct Restore {
    ~Restore() { acl::set_pubsub_default_allchannels(false); }
  } restore;
  acl::set_pubsub_default_allchannels(true);
  CHECK(acl::describe_user(acl::new_user("bob")) == "user bob off &* -@all");
  CHECK(acl::describe_user(user_with({"resetchannels", "&a", "reset"})) == "user t off sanitize-payload &* -@all");
  CHECK(acl::describe_user(user_with({"(+get ~x)"})) == "user t off &* -@all (~x &* -@all +get)");
  CHECK(acl::describe_user(user_with({"resetchannels"})) == "user t off resetchannels -@all");
  acl::User all = user_with({"+@all", "~*"});
  CHECK(check(all, {"publish", "anything", "m"}) == acl::Denied::kNone);
  acl::set_pubsub_default_allchannels(false);
  // Existing users keep what they had.
  CHECK(check(all, {"publish", "anything", "m"}) == acl::Denied::kNone);
  CHECK(acl::describe_user(user_with({"&*", "reset"})) == "user t off sanitize-payload resetchannels -@all");
  CHECK(check(user_with({"+@all", "~*"}), {"publish", "anything", "m"}) == acl::Denied::kChannel);
}
