#pragma once
// Runs keyed command handlers directly, without server, threads or sockets,
// and returns the exact RESP bytes they produce.
//
//   distcache::test::CommandRunner r;            // string + key families
//   CHECK(r.run("SET k v EX 10") == "+OK\r\n");
//   CHECK(r.run("GET k") == resp::bulk("v"));
//   r.now_ms += 10'000;                           // let time pass
//   expect_replies(r, {{"GET k", "$-1\r\n"}});
//
// Other families: CommandRunner r({server::list_command_specs, ...}).
// Command lines are split like redis-cli input: words separated by spaces;
// "double quoted" words may contain spaces and the escapes \" \\ \n \r \t
// \a \b and \xHH. A run(std::vector<std::string>) overload takes raw args.
//
// Test-only pseudo command "@<type> <key>" (type: list, set, zset, hash,
// stream) stores a value of that type under the key and replies +OK, so that
// WRONGTYPE paths can be exercised; the validation script replays it on
// redis-server as DEL + a one-element write of that type.
//
// The lookup mimics the dispatcher: unknown command, container commands
// (OBJECT ENCODING ...), unknown subcommand and arity errors are produced
// here with the dispatcher's texts; everything else is the handler's reply.
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/keyspace.h"
#include "storage/value.h"

namespace distcache::test {

// Splits a redis-cli style command line into arguments.
inline std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    std::string word;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\' || i >= line.size()) {
          word.push_back(c);
          continue;
        }
        char e = line[i++];
        switch (e) {
          case 'n': word.push_back('\n'); break;
          case 'r': word.push_back('\r'); break;
          case 't': word.push_back('\t'); break;
          case 'a': word.push_back('\a'); break;
          case 'b': word.push_back('\b'); break;
          case 'x':
            if (i + 1 < line.size() && hex(line[i]) >= 0 && hex(line[i + 1]) >= 0) {
              word.push_back(static_cast<char>(hex(line[i]) * 16 + hex(line[i + 1])));
              i += 2;
            } else {
              word.push_back('x');
            }
            break;
          default: word.push_back(e); break;
        }
      }
      if (!closed) throw std::invalid_argument("unbalanced quotes in command line");
    } else {
      while (i < line.size() && line[i] != ' ') word.push_back(line[i++]);
    }
    out.push_back(std::move(word));
  }
  return out;
}

// Builders for expected replies (RESP2).
namespace resp {
inline std::string ok() { return "+OK\r\n"; }
inline std::string simple(std::string_view s) { return "+" + std::string(s) + "\r\n"; }
inline std::string error(std::string_view s) { return "-" + std::string(s) + "\r\n"; }
inline std::string integer(int64_t v) { return ":" + std::to_string(v) + "\r\n"; }
inline std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
inline std::string nil() { return "$-1\r\n"; }
inline std::string nil_array() { return "*-1\r\n"; }
inline std::string array_header(size_t n) { return "*" + std::to_string(n) + "\r\n"; }
// An array of already-encoded elements.
inline std::string array(std::initializer_list<std::string> elements) {
  std::string out = array_header(elements.size());
  for (const auto& e : elements) out += e;
  return out;
}
inline std::string bulk_array(std::initializer_list<std::string_view> items) {
  std::string out = array_header(items.size());
  for (auto s : items) out += bulk(s);
  return out;
}
}  // namespace resp

// A stand-in collection for WRONGTYPE tests of families whose real types
// are not needed by the test.
class PlaceholderCollection : public storage::Collection {
 public:
  std::unique_ptr<storage::Collection> clone() const override { return std::make_unique<PlaceholderCollection>(); }
  std::string_view encoding_name() const override { return "placeholder"; }
  size_t heap_bytes() const override { return 0; }
  size_t length() const override { return 1; }
};

// A value whose type() is `t`.
inline storage::Value make_value_of_type(storage::ValueType t) {
  if (t == storage::ValueType::kString) return storage::Value();
  return storage::Value::make<PlaceholderCollection>(t);
}

inline bool parse_type_name(std::string_view name, storage::ValueType& out) {
  using storage::ValueType;
  if (name == "string") out = ValueType::kString;
  else if (name == "list") out = ValueType::kList;
  else if (name == "set") out = ValueType::kSet;
  else if (name == "zset") out = ValueType::kZSet;
  else if (name == "hash") out = ValueType::kHash;
  else if (name == "stream") out = ValueType::kStream;
  else return false;
  return true;
}

class CommandRunner {
 public:
  using Family = std::span<const server::CommandSpec> (*)();
  // A fixed "now" (2023-11-14T22:13:20Z) keeps TTL replies deterministic.
  static constexpr int64_t kDefaultNow = 1'700'000'000'000;

  CommandRunner() : CommandRunner({server::string_command_specs, server::key_command_specs}) {}
  explicit CommandRunner(std::vector<Family> families) : families_(std::move(families)) {}

  storage::Keyspace dbs{16};
  server::Config config;
  int db_index = 0;
  int64_t now_ms = kDefaultNow;
  int resp_version = 2;

  storage::Db& db() { return dbs.db(static_cast<size_t>(db_index)); }

  // Case-insensitive lookup of a top-level command in the runner's families.
  const server::CommandSpec* find_top(std::string_view name) const {
    for (Family f : families_)
      for (const server::CommandSpec& spec : f())
        if (equals_nocase(name, spec.name)) return &spec;
    return nullptr;
  }

  std::string run(const std::vector<std::string>& argv) {
    protocol::ArgList args;
    for (const auto& a : argv) args.add(a);
    std::string out;
    protocol::ReplyBuilder reply(&out, resp_version);
    if (args.empty()) return out;
    storage::ValueType type;
    if (args.size() == 2 && args[0].size() > 1 && args[0][0] == '@' && parse_type_name(args[0].substr(1), type)) {
      db().set(args[1], make_value_of_type(type));
      reply.ok();
      return out;
    }
    const server::CommandSpec* spec = find_top(args[0]);
    if (!spec) {
      // Redis: each argument as '%.*s' while the list is under 128 bytes.
      std::string rest;
      for (size_t i = 1; i < args.size() && rest.size() < 128; ++i)
        rest += "'" + std::string(c_prefix(args[i]).substr(0, 128 - rest.size())) + "' ";
      reply.error("ERR unknown command '" + std::string(c_prefix(args[0]).substr(0, 128)) +
                  "', with args beginning with: " + rest);
      return out;
    }
    if (!spec->subcommands.empty()) {
      if (args.size() < 2) {
        reply.error("ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
        return out;
      }
      const server::CommandSpec* sub = nullptr;
      for (const server::CommandSpec& s : spec->subcommands) {
        std::string_view full = s.name;
        size_t bar = full.find('|');
        if (bar != std::string_view::npos && equals_nocase(args[1], full.substr(bar + 1))) sub = &s;
      }
      if (!sub) {
        std::string upper(spec->name);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        reply.error("ERR unknown subcommand '" + std::string(args[1]) + "'. Try " + upper + " HELP.");
        return out;
      }
      spec = sub;
    }
    if (!server::arity_ok(*spec, args.size())) {
      reply.error("ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
      return out;
    }
    REQUIRE(spec->keyed != nullptr);
    server::CommandContext ctx{args, reply, dbs, db_index, now_ms, config};
    spec->keyed(ctx);
    return out;
  }

  std::string run(std::string_view line) { return run(split_command_line(line)); }
  std::string run(const char* line) { return run(std::string_view(line)); }

 private:
  static std::string_view c_prefix(std::string_view s) { return s.substr(0, s.find('\0')); }
  static bool equals_nocase(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
    return true;
  }

  std::vector<Family> families_;
};

// One command line and the exact reply bytes expected for it.
struct Exchange {
  std::string command;
  std::string reply;
};

// Runs the commands in order and checks every reply; a failure names the command.
inline void expect_replies(CommandRunner& r, std::initializer_list<Exchange> exchanges) {
  for (const Exchange& e : exchanges) {
    INFO("command: " << e.command);
    CHECK(r.run(std::string_view(e.command)) == e.reply);
  }
}

// Same as expect_replies, for sequences that depend on the runner's simulated
// clock or configuration and so cannot be replayed as-is against redis-server.
inline void expect_replies_local(CommandRunner& r, std::initializer_list<Exchange> exchanges) {
  expect_replies(r, exchanges);
}

}  // namespace distcache::test
