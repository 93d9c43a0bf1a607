#include "server/acl/acl.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "server/acl/sha256.h"
#include "server/client_session.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/shard_thread.h"
#include "server/server.h"
#include "storage/glob.h"

namespace distcache::server::acl {
namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Command ids: every top-level command and every subcommand gets one.

struct CommandIds {
  std::vector<const CommandSpec*> by_id;
  std::unordered_map<const CommandSpec*, uint32_t> ids;
  std::unordered_map<const CommandSpec*, const CommandSpec*> parent;
  size_t future_bit = 0;  // reserved: set only by +@all
  size_t count = 0;

  CommandIds() {
    for (const CommandSpec* spec : CommandTable::instance().all()) {
      ids[spec] = static_cast<uint32_t>(by_id.size());
      by_id.push_back(spec);
      for (const CommandSpec& sub : spec->subcommands) {
        ids[&sub] = static_cast<uint32_t>(by_id.size());
        by_id.push_back(&sub);
        parent[&sub] = spec;
      }
    }
    future_bit = by_id.size();
    count = by_id.size() + 1;
  }
};

const CommandIds& command_ids() {
  static const CommandIds ids;
  return ids;
}

size_t words() { return (command_ids().count + 63) / 64; }

bool get_bit(const Selector& s, size_t id) {
  size_t w = id / 64;
  return w < s.allowed.size() && (s.allowed[w] >> (id % 64)) & 1;
}

void set_bit(Selector& s, size_t id, bool on) {
  if (s.allowed.size() < words()) s.allowed.resize(words(), 0);
  if (on)
    s.allowed[id / 64] |= 1ull << (id % 64);
  else
    s.allowed[id / 64] &= ~(1ull << (id % 64));
}

uint32_t id_of(const CommandSpec& spec) {
  auto& ids = command_ids().ids;
  auto it = ids.find(&spec);
  return it == ids.end() ? UINT32_MAX : it->second;
}

// A command and all its subcommands.
void change_perm(Selector& s, const CommandSpec& cmd, bool allow) {
  uint32_t id = id_of(cmd);
  if (id != UINT32_MAX) set_bit(s, id, allow);
  for (const CommandSpec& sub : cmd.subcommands) set_bit(s, id_of(sub), allow);
}

void set_category(Selector& s, uint64_t category, bool allow) {
  for (const CommandSpec* top : CommandTable::instance().all()) {
    if (top->acl & category) change_perm(s, *top, allow);
    for (const CommandSpec& sub : top->subcommands)
      if (sub.acl & category) change_perm(s, sub, allow);
  }
}

void set_all(Selector& s, bool allow) {
  s.allowed.assign(words(), allow ? ~0ull : 0ull);
  s.allcommands = allow;
}

bool valid_hash(std::string_view h) {
  if (h.size() != 64) return false;
  return std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

constexpr std::string_view kSyntaxError = "Syntax error";
constexpr std::string_view kUnknownCommand = "Unknown command or category name in ACL";
constexpr std::string_view kKeysAfterAll =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try "
    "'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kChannelsAfterAll =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. "
    "Try 'resetchannels' to start with an empty list of channels";

bool has_spaces(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == 0 || std::isspace(static_cast<unsigned char>(c)); });
}

// acl-pubsub-default: whether new users and selectors start with allchannels.
std::atomic<bool> g_pubsub_allchannels{false};
// The server's configuration (set at start-up), read for acl-pubsub-default.
std::atomic<const Config*> g_config{nullptr};

// Re-reads acl-pubsub-default. Called before users are created, never with the
// registry mutex or the configuration's string_mutex held (config_get takes it).
void refresh_pubsub_default() {
  const Config* config = g_config.load(std::memory_order_acquire);
  if (!config) return;
  auto values = config_get(*config, "acl-pubsub-default");
  if (!values.empty()) g_pubsub_allchannels.store(values.front().second == "allchannels", std::memory_order_relaxed);
}

Selector new_selector() {
  Selector s;
  set_all(s, false);
  s.allchannels = g_pubsub_allchannels.load(std::memory_order_relaxed);
  return s;
}

// Rules that apply to a selector (keys, channels, commands).
std::optional<std::string> apply_selector_rule(Selector& s, std::string_view op) {
  if (iequals(op, "allkeys") || op == "~*") {
    s.allkeys = true;
    s.keys.clear();
    return std::nullopt;
  }
  if (iequals(op, "resetkeys")) {
    s.allkeys = false;
    s.keys.clear();
    return std::nullopt;
  }
  if (iequals(op, "allchannels") || op == "&*") {
    s.allchannels = true;
    s.channels.clear();
    return std::nullopt;
  }
  if (iequals(op, "resetchannels")) {
    s.allchannels = false;
    s.channels.clear();
    return std::nullopt;
  }
  if (iequals(op, "allcommands") || iequals(op, "+@all")) {
    set_all(s, true);
    return std::nullopt;
  }
  if (iequals(op, "nocommands") || iequals(op, "-@all")) {
    set_all(s, false);
    return std::nullopt;
  }
  if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    uint8_t flags = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      for (; offset < op.size(); ++offset) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(op[offset])));
        if (c == 'R' && !(flags & kKeyRead))
          flags |= kKeyRead;
        else if (c == 'W' && !(flags & kKeyWrite))
          flags |= kKeyWrite;
        else if (c == '~')
          break;
        else
          return std::string(kSyntaxError);
      }
      if (offset == op.size() || flags == 0) return std::string(kSyntaxError);
      ++offset;
    } else {
      flags = kKeyAll;
    }
    if (s.allkeys) return std::string(kKeysAfterAll);
    std::string pattern(op.substr(offset));
    if (has_spaces(pattern)) return std::string(kSyntaxError);
    if (pattern == "*" && flags == kKeyAll) {
      s.allkeys = true;
      s.keys.clear();
      return std::nullopt;
    }
    for (auto& k : s.keys)
      if (k.pattern == pattern) {
        k.flags |= flags;
        return std::nullopt;
      }
    s.keys.push_back({std::move(pattern), flags});
    return std::nullopt;
  }
  if (!op.empty() && op[0] == '&') {
    if (s.allchannels) return std::string(kChannelsAfterAll);
    std::string pattern(op.substr(1));
    if (has_spaces(pattern)) return std::string(kSyntaxError);
    if (std::find(s.channels.begin(), s.channels.end(), pattern) == s.channels.end())
      s.channels.push_back(std::move(pattern));
    return std::nullopt;
  }
  if (op.size() >= 2 && (op[0] == '+' || op[0] == '-')) {
    const bool allow = op[0] == '+';
    if (op[1] == '@') {
      uint64_t cat = category_by_name(lower(op.substr(2)));
      if (!cat) return std::string(kUnknownCommand);
      set_category(s, cat, allow);
      if (!allow) s.allcommands = false;
      return std::nullopt;
    }
    std::string_view name = op.substr(1);
    size_t bar = name.find('|');
    const CommandSpec* cmd = CommandTable::instance().find(name.substr(0, bar));
    if (!cmd) return std::string(kUnknownCommand);
    if (bar == std::string_view::npos) {
      change_perm(s, *cmd, allow);
    } else {
      std::string_view sub_name = name.substr(bar + 1);
      if (sub_name.empty() || sub_name.find('|') != std::string_view::npos) return std::string(kUnknownCommand);
      if (cmd->subcommands.empty()) {
        // First-argument rules (+select|0) are accepted but grant nothing here.
        if (!allow) return std::string(kUnknownCommand);
        return std::nullopt;
      }
      const CommandSpec* sub = CommandTable::find_subcommand(*cmd, sub_name);
      if (!sub) return std::string(kUnknownCommand);
      change_perm(s, *sub, allow);
    }
    if (!allow) s.allcommands = false;
    return std::nullopt;
  }
  return std::string(kSyntaxError);
}

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Registry

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const User>> users;
  std::atomic<uint64_t> generation{1};
  std::string aclfile;
  std::vector<std::vector<std::string>> config_users;  // `user` directives, applied at start
  std::unordered_map<std::string, const CommandSpec*> renamed;  // lower-case new name -> spec (nullptr = hidden)
  bool renames = false;
  std::atomic<bool> default_nopass{true};

  Registry() { users["default"] = std::make_shared<const User>(default_user()); }

  static User default_user() {
    User u;
    u.name = "default";
    u.enabled = true;
    u.nopass = true;
    set_all(u.root, true);
    u.root.allkeys = true;
    u.root.allchannels = true;
    return u;
  }

  void changed() {
    auto it = users.find("default");
    default_nopass = it != users.end() && it->second->nopass && it->second->enabled;
    generation.fetch_add(1, std::memory_order_acq_rel);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

// ---------------------------------------------------------------------------
// ACL LOG

struct LogState {
  std::mutex mutex;
  std::deque<LogEntry> entries;  // newest first
  size_t max_len = 128;
};

LogState& log_state() {
  static LogState s;
  return s;
}

std::string_view reason_name(Denied d) {
  switch (d) {
    case Denied::kCommand: return "command";
    case Denied::kKey: return "key";
    case Denied::kAuth: return "auth";
    case Denied::kChannel: return "channel";
    default: return "";
  }
}

bool is_loopback(std::string_view addr) {
  if (addr.starts_with("::ffff:")) addr.remove_prefix(7);
  return addr.starts_with("127.") || addr == "::1";
}

}  // namespace

// ---------------------------------------------------------------------------
// Categories

const std::vector<std::pair<std::string_view, uint64_t>>& categories() {
  static const std::vector<std::pair<std::string_view, uint64_t>> kCategories = {
      {"keyspace", kAclKeyspace},   {"read", kAclRead},       {"write", kAclWrite},
      {"set", kAclSet},             {"sortedset", kAclSortedSet}, {"list", kAclList},
      {"hash", kAclHash},           {"string", kAclString},   {"bitmap", kAclBitmap},
      {"hyperloglog", kAclHyperLogLog}, {"geo", kAclGeo},     {"stream", kAclStream},
      {"pubsub", kAclPubsub},       {"admin", kAclAdmin},     {"fast", kAclFast},
      {"slow", kAclSlow},           {"blocking", kAclBlocking}, {"dangerous", kAclDangerous},
      {"connection", kAclConnection}, {"transaction", kAclTransaction}, {"scripting", kAclScripting},
  };
  return kCategories;
}

uint64_t category_by_name(std::string_view name) {
  for (auto& [n, bit] : categories())
    if (iequals(n, name)) return bit;
  return 0;
}

size_t command_id_count() { return command_ids().count; }

std::string command_full_name(const CommandSpec& spec) { return std::string(spec.name); }

// ---------------------------------------------------------------------------
// Rules

User new_user(std::string_view name) {
  User u;
  u.name = std::string(name);
  u.root = new_selector();
  return u;
}

std::optional<std::string> apply_rule(User& u, std::string_view op) {
  if (iequals(op, "on")) {
    u.enabled = true;
  } else if (iequals(op, "off")) {
    u.enabled = false;
  } else if (iequals(op, "nopass")) {
    u.nopass = true;
    u.passwords.clear();
  } else if (iequals(op, "resetpass")) {
    u.nopass = false;
    u.passwords.clear();
  } else if (iequals(op, "skip-sanitize-payload")) {
    u.sanitize = 2;
  } else if (iequals(op, "sanitize-payload")) {
    u.sanitize = 1;
  } else if (iequals(op, "clearselectors")) {
    u.selectors.clear();
  } else if (iequals(op, "reset")) {
    u.nopass = false;
    u.passwords.clear();
    u.root = new_selector();
    u.selectors.clear();
    u.enabled = false;
    u.sanitize = 1;
  } else if (!op.empty() && (op[0] == '>' || op[0] == '#')) {
    std::string hash;
    if (op[0] == '>') {
      hash = sha256_hex(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1)))
        return std::string(
            "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
      hash = std::string(op.substr(1));
    }
    if (std::find(u.passwords.begin(), u.passwords.end(), hash) == u.passwords.end()) u.passwords.push_back(hash);
    u.nopass = false;
  } else if (!op.empty() && (op[0] == '<' || op[0] == '!')) {
    std::string hash;
    if (op[0] == '<') {
      hash = sha256_hex(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1)))
        return std::string(
            "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
      hash = std::string(op.substr(1));
    }
    auto it = std::find(u.passwords.begin(), u.passwords.end(), hash);
    if (it == u.passwords.end()) return std::string("The password you are trying to remove from the user does not exist");
    u.passwords.erase(it);
  } else if (op.size() >= 2 && op.front() == '(' && op.back() == ')') {
    Selector s = new_selector();
    for (auto& part : split_spaces(op.substr(1, op.size() - 2)))
      if (auto err = apply_selector_rule(s, part)) return err;
    u.selectors.push_back(std::move(s));
  } else {
    return apply_selector_rule(u.root, op);
  }
  return std::nullopt;
}

namespace {
// `full`: SETUSER's message ("ERR Error in ACL SETUSER modifier ..."), else
// just the reason (as the ACL file loader reports it).
std::optional<std::string> apply_rules_impl(User& user, const std::vector<std::string>& rules, bool full) {
  User copy = user;
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string op = rules[i];
    if (!op.empty() && op[0] == '(' && op.back() != ')') {
      size_t j = i + 1;
      for (; j < rules.size(); ++j) {
        op += ' ';
        op += rules[j];
        if (!rules[j].empty() && rules[j].back() == ')') break;
      }
      if (j >= rules.size()) {
        if (!full) return std::string("Unmatched parenthesis in selector definition.");
        return fmt::format("ERR Unmatched parenthesis in acl selector starting at '{}'.", rules[i]);
      }
      i = j;
    }
    if (auto err = apply_rule(copy, op)) {
      if (!full && *err == kUnknownCommand) return fmt::format("Error in applying operation '{}': {}", op, *err);
      if (!full) return err;
      return fmt::format("ERR Error in ACL SETUSER modifier '{}': {}", op, *err);
    }
  }
  user = std::move(copy);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> apply_rules(User& user, const std::vector<std::string>& rules) {
  return apply_rules_impl(user, rules, true);
}

namespace {
// (on, off) counts of the commands and subcommands of a category in `s`.
std::pair<size_t, size_t> count_category(const Selector& s, uint64_t category) {
  size_t on = 0, off = 0;
  for (const CommandSpec* cmd : CommandTable::instance().all()) {
    if (cmd->acl & category) (get_bit(s, id_of(*cmd)) ? on : off)++;
    for (const CommandSpec& sub : cmd->subcommands)
      if (sub.acl & category) (get_bit(s, id_of(sub)) ? on : off)++;
  }
  return {on, off};
}
}  // namespace

// As Redis 7.0: start from +@all (if the selector may run future commands) or
// -@all, then greedily emit the categories that fit best (more commands in
// common than different, fewest differences first), each time removing the
// category from a working copy, and finally the single commands that differ.
std::string describe_commands(const Selector& s) {
  const auto& ids = command_ids();
  const auto& all = CommandTable::instance().all();
  const auto& cats = categories();
  const bool additive = !get_bit(s, ids.future_bit);
  std::string rules = additive ? "-@all " : "+@all ";
  Selector fake;
  set_all(fake, !additive);
  Selector temp;
  temp.allowed = s.allowed;
  temp.allowed.resize(words(), 0);
  std::vector<bool> applied(cats.size(), false);
  while (true) {
    int best = -1;
    size_t min_diff = SIZE_MAX, max_same = 0;
    for (size_t j = 0; j < cats.size(); ++j) {
      if (applied[j]) continue;
      auto [on, off] = count_category(temp, cats[j].second);
      size_t diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(j);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    set_category(fake, cats[best].second, additive);
    set_category(temp, cats[best].second, !additive);
    fmt::format_to(std::back_inserter(rules), "{}@{} ", additive ? '+' : '-', cats[best].first);
    applied[best] = true;
  }
  auto fix = [&](const CommandSpec& cmd) {
    uint32_t id = id_of(cmd);
    bool user_bit = get_bit(s, id), fake_bit = get_bit(fake, id);
    if (user_bit != fake_bit) {
      fmt::format_to(std::back_inserter(rules), "{}{} ", user_bit ? '+' : '-', cmd.name);
      change_perm(fake, cmd, user_bit);
    }
  };
  for (const CommandSpec* cmd : all) {
    fix(*cmd);
    for (const CommandSpec& sub : cmd->subcommands) fix(sub);
  }
  rules.pop_back();
  return rules;
}

std::string describe_keys(const Selector& s) {
  if (s.allkeys) return "~*";
  std::string out;
  for (auto& k : s.keys) {
    if (!out.empty()) out += ' ';
    if (k.flags == kKeyRead)
      out += "%R~";
    else if (k.flags == kKeyWrite)
      out += "%W~";
    else
      out += '~';
    out += k.pattern;
  }
  return out;
}

std::string describe_channels(const Selector& s, bool list_form) {
  if (s.allchannels) return "&*";
  std::string out = list_form ? "resetchannels" : "";
  for (auto& c : s.channels) {
    if (!out.empty()) out += ' ';
    out += '&';
    out += c;
  }
  return out;
}

namespace {
std::string describe_selector(const Selector& s) {
  std::string out;
  std::string keys = describe_keys(s);
  if (!keys.empty()) out += keys + " ";
  out += describe_channels(s, true) + " ";
  out += describe_commands(s);
  return out;
}
}  // namespace

std::string describe_user(const User& u) {
  std::string out = "user " + u.name;
  out += u.enabled ? " on" : " off";
  if (u.nopass) out += " nopass";
  if (u.sanitize == 2) out += " skip-sanitize-payload";
  if (u.sanitize == 1) out += " sanitize-payload";
  for (auto& p : u.passwords) out += " #" + p;
  out += " " + describe_selector(u.root);
  for (auto& s : u.selectors) out += " (" + describe_selector(s) + ")";
  return out;
}

// ---------------------------------------------------------------------------
// Registry API

std::shared_ptr<const User> find_user(std::string_view name) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.users.find(std::string(name));
  return it == r.users.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const User>> all_users() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::shared_ptr<const User>> out;
  for (auto& [n, u] : r.users) out.push_back(u);
  return out;
}

namespace {
std::optional<std::string> set_user_impl(std::string_view name, const std::vector<std::string>& rules) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.users.find(std::string(name));
  User u = it == r.users.end() ? new_user(name) : *it->second;
  if (auto err = apply_rules(u, rules)) return err;
  r.users[std::string(name)] = std::make_shared<const User>(std::move(u));
  r.changed();
  return std::nullopt;
}
}  // namespace

std::optional<std::string> set_user(std::string_view name, const std::vector<std::string>& rules) {
  refresh_pubsub_default();
  return set_user_impl(name, rules);
}

void set_pubsub_default_allchannels(bool allchannels) {
  g_pubsub_allchannels.store(allchannels, std::memory_order_relaxed);
}

bool pubsub_default_allchannels() { return g_pubsub_allchannels.load(std::memory_order_relaxed); }

int delete_user(std::string_view name) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (r.users.erase(std::string(name)) == 0) return 0;
  r.changed();
  return 1;
}

uint64_t generation() { return registry().generation.load(std::memory_order_acquire); }

void set_requirepass(std::string_view password) {
  std::vector<std::string> rules = {"resetpass"};
  if (password.empty())
    rules.push_back("nopass");
  else
    rules.push_back(">" + std::string(password));
  set_user_impl("default", rules);  // (may run under CONFIG SET's string_mutex: no configuration read)
}

bool default_user_nopass() { return registry().default_nopass.load(std::memory_order_relaxed); }

bool check_password(std::string_view user, std::string_view password) {
  auto u = find_user(user);
  if (!u || !u->enabled) return false;
  if (u->nopass) return true;
  std::string hash = sha256_hex(password);
  // Compare every stored hash fully (no early exit on the first differing byte).
  bool ok = false;
  for (auto& p : u->passwords) {
    unsigned diff = p.size() ^ hash.size();
    for (size_t i = 0; i < std::min(p.size(), hash.size()); ++i) diff |= static_cast<unsigned char>(p[i] ^ hash[i]);
    ok |= diff == 0;
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Checks

namespace {

enum class ChannelUse { kNone, kLiteral, kPattern };

// The channel arguments of pub/sub commands: [first, last] and their kind.
ChannelUse channel_args(const CommandSpec& spec, size_t argc, size_t& first, size_t& last) {
  std::string_view n = spec.name;
  if (n == "publish" || n == "spublish") {
    first = last = 1;
    return argc > 1 ? ChannelUse::kLiteral : ChannelUse::kNone;
  }
  if (n == "subscribe" || n == "ssubscribe" || n == "psubscribe") {
    first = 1;
    last = argc - 1;
    if (argc < 2) return ChannelUse::kNone;
    return n == "psubscribe" ? ChannelUse::kPattern : ChannelUse::kLiteral;
  }
  return ChannelUse::kNone;
}

struct KeyAccess {
  std::string_view name;
  std::vector<uint8_t> per_spec;
};

const std::unordered_map<std::string_view, std::vector<uint8_t>>& key_access_table() {
  static const auto table = [] {
    static const KeyAccess kRows[] = {
#include "server/acl/key_access_table.inc"
    };
    std::unordered_map<std::string_view, std::vector<uint8_t>> map;
    for (const auto& row : kRows) map.emplace(row.name, row.per_spec);
    return map;
  }();
  return table;
}

// The permissions the `nth` key (in key-extraction order) of the command
// needs, from Redis's key specifications: read for keys whose value is
// returned, write for keys that are inserted, deleted or updated.
uint8_t key_flags_needed(const CommandSpec& spec, const protocol::ArgList& args, size_t nth, size_t key_count) {
  std::string_view name = spec.name;
  if (name == "set") {  // as Redis's key finder for SET: read access only with GET
    for (size_t i = 3; i < args.size(); ++i)
      if (iequals(args[i], "get")) return kKeyAll;
    return kKeyWrite;
  }
  if (name == "bitfield") {  // only GET operations: a read
    for (size_t i = 2; i < args.size(); ++i)
      if (iequals(args[i], "set") || iequals(args[i], "incrby")) return kKeyAll;
    return kKeyRead;
  }
  // The table row of the command, remembered per spec (a pointer lookup, not a name hash).
  thread_local std::unordered_map<const CommandSpec*, const std::vector<uint8_t>*> rows;
  auto cached = rows.find(&spec);
  if (cached == rows.end()) {
    const auto& table = key_access_table();
    auto it = table.find(name);
    cached = rows.emplace(&spec, it == table.end() || it->second.empty() ? nullptr : &it->second).first;
  }
  if (!cached->second) {
    if (spec.flags & kCmdWrite) return kKeyWrite;
    if (spec.flags & kCmdReadonly) return kKeyRead;
    return kKeyAll;
  }
  const auto& specs = *cached->second;
  size_t index = std::min(nth, specs.size() - 1);
  // SORT's BY/GET patterns are not keys here: its STORE key is the last spec.
  if (nth > 0 && nth + 1 == key_count && (name == "sort" || name == "sort_ro")) index = specs.size() - 1;
  return specs[index];
}

bool key_allowed(const Selector& s, std::string_view key, uint8_t needed) {
  for (auto& k : s.keys)
    if ((k.flags & needed) == needed && storage::glob_match(k.pattern, key)) return true;
  return false;
}

bool channel_allowed(const Selector& s, std::string_view channel, bool pattern) {
  for (auto& c : s.channels) {
    if (pattern ? c == channel : storage::glob_match(c, channel)) return true;
  }
  return false;
}

CheckResult check_selector(const Selector& s, const CommandSpec& spec, const protocol::ArgList& args) {
  if (!s.allcommands && !(spec.flags & kCmdNoAuth)) {
    uint32_t id = id_of(spec);
    if (id == UINT32_MAX || !get_bit(s, id)) return {Denied::kCommand, 0};
  }
  if (!s.allkeys && (spec.first_key > 0 || spec.find_keys)) {
    thread_local std::vector<int> indexes;
    indexes.clear();
    extract_keys(spec, args, indexes);
    for (size_t n = 0; n < indexes.size(); ++n) {
      const int i = indexes[n];
      if (i <= 0 || static_cast<size_t>(i) >= args.size()) continue;
      if (!key_allowed(s, args[i], key_flags_needed(spec, args, n, indexes.size()))) return {Denied::kKey, i};
    }
  }
  if (!s.allchannels) {
    size_t first = 0, last = 0;
    ChannelUse use = channel_args(spec, args.size(), first, last);
    if (use != ChannelUse::kNone)
      for (size_t i = first; i <= last && i < args.size(); ++i)
        if (!channel_allowed(s, args[i], use == ChannelUse::kPattern))
          return {Denied::kChannel, static_cast<int>(i)};
  }
  return {};
}

}  // namespace

bool channels_allowed(const User& user, const std::vector<std::string_view>& channels,
                      const std::vector<std::string_view>& patterns) {
  auto allowed = [&user](std::string_view name, bool pattern) {
    if (user.root.allchannels || channel_allowed(user.root, name, pattern)) return true;
    for (const Selector& s : user.selectors)
      if (s.allchannels || channel_allowed(s, name, pattern)) return true;
    return false;
  };
  for (auto c : channels)
    if (!allowed(c, false)) return false;
  for (auto p : patterns)
    if (!allowed(p, true)) return false;
  return true;
}

CheckResult check_command(const User& user, const CommandSpec& spec, const protocol::ArgList& args) {
  CheckResult best = check_selector(user.root, spec, args);
  if (best.reason == Denied::kNone) return best;
  for (const Selector& s : user.selectors) {
    CheckResult r = check_selector(s, spec, args);
    if (r.reason == Denied::kNone) return r;
    if (r.reason > best.reason || (r.reason == best.reason && r.arg_index > best.arg_index)) best = r;
  }
  return best;
}

// ---------------------------------------------------------------------------
// ACL LOG

void log_denied(Denied reason, std::string_view context, std::string_view object, std::string_view username,
                std::string client_info) {
  auto& st = log_state();
  std::lock_guard lock(st.mutex);
  const int64_t now = now_ms();
  std::string_view rname = reason_name(reason);
  for (auto it = st.entries.begin(); it != st.entries.end(); ++it) {
    if (it->reason == rname && it->context == context && it->object == object && it->username == username &&
        now - it->created_ms <= 60000) {
      LogEntry e = std::move(*it);
      st.entries.erase(it);
      e.count++;
      e.created_ms = now;
      e.client_info = std::move(client_info);
      st.entries.push_front(std::move(e));
      return;
    }
  }
  st.entries.push_front(LogEntry{1, std::string(rname), std::string(context), std::string(object),
                                 std::string(username), std::move(client_info), now});
  while (st.entries.size() > st.max_len) st.entries.pop_back();
}

void log_reset() {
  auto& st = log_state();
  std::lock_guard lock(st.mutex);
  st.entries.clear();
}

std::vector<LogEntry> log_entries(size_t max) {
  auto& st = log_state();
  std::lock_guard lock(st.mutex);
  std::vector<LogEntry> out;
  for (size_t i = 0; i < st.entries.size() && i < max; ++i) out.push_back(st.entries[i]);
  return out;
}

// ---------------------------------------------------------------------------
// ACL file

std::string aclfile_path() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.aclfile;
}

void set_aclfile_path(std::string path) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.aclfile = std::move(path);
}

namespace {

// Splits a line into arguments: spaces separate, double or single quotes group.
bool split_line(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) break;
    std::string arg;
    if (line[i] == '"' || line[i] == '\'') {
      char q = line[i++];
      while (i < line.size() && line[i] != q) {
        if (q == '"' && line[i] == '\\' && i + 1 < line.size()) ++i;
        arg += line[i++];
      }
      if (i >= line.size()) return false;
      ++i;
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) arg += line[i++];
    }
    out.push_back(std::move(arg));
  }
  return true;
}

// Builds the users of `lines` ("user name rules...") on top of a fresh default
// user. Returns the error (Redis's wording) on the first problem.
std::optional<std::string> build_users(const std::vector<std::pair<std::string, std::vector<std::string>>>& lines,
                                       std::map<std::string, std::shared_ptr<const User>>& users) {
  std::map<std::string, User> built;
  built["default"] = Registry::default_user();
  std::vector<std::string> errors;
  for (auto& [where, argv] : lines) {
    if (argv.size() < 2 || argv[0] != "user") {
      errors.push_back(fmt::format("{} should start with user keyword followed by the username. ", where));
      continue;
    }
    const std::string& name = argv[1];
    if (name.find_first_of(" \t\r\n") != std::string::npos) {
      errors.push_back(fmt::format("{}: username can't contain spaces or null characters. ", where));
      continue;
    }
    if (built.count(name) && name != "default") {
      errors.push_back(fmt::format("{}: Duplicate user '{}' found. ", where, name));
      continue;
    }
    User u = new_user(name);
    std::vector<std::string> rules(argv.begin() + 2, argv.end());
    if (auto err = apply_rules_impl(u, rules, false)) {
      errors.push_back(fmt::format("{}: {}{}", where, *err, err->ends_with('.') ? "" : ". "));
      continue;
    }
    built[name] = std::move(u);
  }
  if (!errors.empty()) {
    std::string all;
    for (auto& e : errors) all += e;
    return all + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
  }
  users.clear();
  for (auto& [n, u] : built) users[n] = std::make_shared<const User>(std::move(u));
  return std::nullopt;
}

}  // namespace

std::optional<std::string> load_aclfile(const std::string& path) {
  refresh_pubsub_default();
  std::ifstream in(path);
  if (!in) return fmt::format("Error loading ACLs, opening file '{}': {}", path, std::strerror(errno));
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view l = line;
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.remove_suffix(1);
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.front()))) l.remove_prefix(1);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> argv;
    std::string where = fmt::format("{}:{}", path, line_no);
    if (!split_line(l, argv)) return fmt::format("{}: unbalanced quotes in acl line", where);
    lines.emplace_back(where, std::move(argv));
  }
  std::map<std::string, std::shared_ptr<const User>> users;
  if (auto err = build_users(lines, users)) return err;
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.users = std::move(users);
  r.changed();
  return std::nullopt;
}

std::optional<std::string> save_aclfile(const std::string& path) {
  std::string content;
  for (auto& u : all_users()) content += describe_user(*u) + "\n";
  std::string temp = path + ".tmp-" + std::to_string(now_ms());
  {
    std::ofstream out(temp, std::ios::trunc);
    if (!out) return fmt::format("Opening temp ACL file for ACL SAVE: {}", std::strerror(errno));
    out << content;
    out.flush();
    if (!out) return fmt::format("Writing ACL file for ACL SAVE: {}", std::strerror(errno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return fmt::format("Renaming ACL file for ACL SAVE: {}", std::strerror(errno));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Configuration

std::optional<std::string> config_directive(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  auto& r = registry();
  if (iequals(argv[0], "user")) {
    if (argv.size() < 2) return std::string("Bad directive or wrong number of arguments");
    std::vector<std::string> line(argv);
    line[0] = "user";
    std::lock_guard lock(r.mutex);
    r.config_users.push_back(std::move(line));
    return std::string();
  }
  if (iequals(argv[0], "rename-command")) {
    if (argv.size() != 3) return std::string("Bad directive or wrong number of arguments");
    const CommandSpec* spec = lookup_command(argv[1]);
    if (!spec) return std::string("No such command in rename-command");
    std::lock_guard lock(r.mutex);
    // The old name disappears; the new one (unless "") resolves to the command.
    r.renamed[lower(argv[1])] = nullptr;
    if (!argv[2].empty()) {
      if (r.renamed.count(lower(argv[2])) && r.renamed[lower(argv[2])] != nullptr)
        return std::string("Target command name already exists");
      if (!r.renamed.count(lower(argv[2])) && CommandTable::instance().find(argv[2]))
        return std::string("Target command name already exists");
      r.renamed[lower(argv[2])] = spec;
    }
    r.renames = true;
    return std::string();
  }
  return std::nullopt;
}

const CommandSpec* lookup_command(std::string_view name) {
  auto& r = registry();
  if (!r.renames) return CommandTable::instance().find(name);
  auto it = r.renamed.find(lower(name));  // filled before the server starts, read-only afterwards
  if (it != r.renamed.end()) return it->second;
  return CommandTable::instance().find(name);
}

bool renames_active() { return registry().renames; }

std::optional<std::string> init_from_config(const Config& config) {
  g_config.store(&config, std::memory_order_release);
  refresh_pubsub_default();
  auto values = config_get(config, "aclfile");
  std::string aclfile = values.empty() ? "" : values.front().second;
  auto& r = registry();
  std::vector<std::vector<std::string>> config_users;
  {
    std::lock_guard lock(r.mutex);
    config_users = r.config_users;
    r.aclfile = aclfile;
  }
  if (!aclfile.empty() && !config_users.empty())
    return std::string(
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. "
        "This setup is very likely to lead to configuration errors and security holes, please define either an "
        "ACL file or declare users directly in your redis.conf, but not both.");
  // requirepass first: `user default ...` lines and the ACL file override it.
  set_requirepass(config.get_string(config.requirepass));
  if (!config_users.empty()) {
    for (auto& argv : config_users) {
      std::vector<std::string> rules(argv.begin() + 2, argv.end());
      if (argv[1] == "default") rules.insert(rules.begin(), "reset");  // as Redis: `user default` starts over
      if (auto err = set_user(argv[1], rules)) {
        std::string text = *err;
        if (text.starts_with("ERR ")) text = text.substr(4);
        return fmt::format("Error in user declaration '{}': {}", argv[1], text);
      }
    }
  }
  if (!aclfile.empty()) {
    if (auto err = load_aclfile(aclfile)) return "Aborting Redis startup because of ACL errors: " + *err;
  }
  return std::nullopt;
}

void config_changed(const Config& config, std::string_view name) {
  if (name == "requirepass") set_requirepass(config.requirepass);  // string_mutex is held by CONFIG SET
}

// ---------------------------------------------------------------------------
// Dispatcher hook

namespace {

// Scripts run by users with restricted permissions: redis.call() checks the
// caller's permissions. The script's command context only knows the script
// command's own arguments, so the caller is found by their address (a
// connection's argument list stays put while its command runs).
struct ScriptCaller {
  std::shared_ptr<const User> user;
  std::string client_info;
};
struct ScriptCallers {
  std::mutex mutex;
  std::unordered_map<const protocol::ArgList*, ScriptCaller> by_args;
  std::atomic<size_t> size{0};
};
ScriptCallers& script_callers() {
  static ScriptCallers s;
  return s;
}

bool runs_script(const CommandSpec& spec) {
  std::string_view n = spec.name;
  return n == "eval" || n == "evalsha" || n == "eval_ro" || n == "evalsha_ro" || n == "fcall" || n == "fcall_ro";
}

void note_script_caller(Connection& conn, const std::shared_ptr<const User>& user, bool restricted,
                        const protocol::ArgList& args) {
  auto& sc = script_callers();
  if (!restricted && sc.size.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(sc.mutex);
  if (restricted)
    sc.by_args[&args] = ScriptCaller{user, conn.client_info(now_ms())};
  else
    sc.by_args.erase(&args);
  sc.size.store(sc.by_args.size(), std::memory_order_relaxed);
}

}  // namespace

void forget_script_caller(const protocol::ArgList& script_args) {
  auto& sc = script_callers();
  if (sc.size.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(sc.mutex);
  sc.by_args.erase(&script_args);
  sc.size.store(sc.by_args.size(), std::memory_order_relaxed);
}

std::optional<std::string> script_call_denied(const protocol::ArgList& script_args, const CommandSpec& spec,
                                              const protocol::ArgList& args) {
  auto& sc = script_callers();
  if (sc.size.load(std::memory_order_relaxed) == 0) return std::nullopt;
  ScriptCaller caller;
  {
    std::lock_guard lock(sc.mutex);
    auto it = sc.by_args.find(&script_args);
    if (it == sc.by_args.end()) return std::nullopt;
    caller = it->second;
  }
  CheckResult r = check_command(*caller.user, spec, args);
  if (r.reason == Denied::kNone) return std::nullopt;
  std::string object = r.reason == Denied::kCommand ? std::string(spec.name) : std::string(args[r.arg_index]);
  log_denied(r.reason, "lua", object, caller.user->name, caller.client_info);
  switch (r.reason) {
    case Denied::kCommand: return std::string("ERR The user executing the script can't run this command or subcommand");
    case Denied::kKey:
      return std::string(
          "ERR The user executing the script can't access at least one of the keys mentioned in the command "
          "arguments");
    default:
      return std::string("ERR The user executing the script can't publish to the channel mentioned in the command");
  }
}

namespace {
// acllog-max-len may have changed (read on denials only, off the hot path).
void refresh_log_max_len(Connection& conn) {
  auto max_len = config_get(conn.thread().server().config(), "acllog-max-len");
  if (!max_len.empty()) {
    std::lock_guard lock(log_state().mutex);
    log_state().max_len = static_cast<size_t>(std::strtoull(max_len.front().second.c_str(), nullptr, 10));
  }
}
}  // namespace

bool permit(Connection& conn, ClientSession& session, const CommandSpec& spec, const protocol::ArgList& args) {
  const uint64_t gen = registry().generation.load(std::memory_order_acquire);
  if (session.acl_generation != gen) {
    session.acl_user = find_user(session.user);
    session.acl_generation = gen;
  }
  const User* u = session.acl_user.get();
  if (u && u->root.allcommands && u->root.allkeys && u->root.allchannels) {
    if (runs_script(spec)) note_script_caller(conn, session.acl_user, false, args);
    return true;
  }
  CheckResult r;
  if (u)
    r = check_command(*u, spec, args);
  else
    r = {Denied::kCommand, 0};
  if (r.reason == Denied::kNone) {
    if (runs_script(spec)) note_script_caller(conn, session.acl_user, true, args);
    return true;
  }
  std::string object;
  switch (r.reason) {
    case Denied::kCommand:
      conn.reply().error(fmt::format("NOPERM this user has no permissions to run the '{}' command", spec.name));
      object = std::string(spec.name);
      break;
    case Denied::kKey:
      conn.reply().error("NOPERM this user has no permissions to access one of the keys used as arguments");
      object = std::string(args[r.arg_index]);
      break;
    default:
      conn.reply().error("NOPERM this user has no permissions to access one of the channels used as arguments");
      object = std::string(args[r.arg_index]);
      break;
  }
  refresh_log_max_len(conn);
  log_denied(r.reason, session.multi ? "multi" : "toplevel", object, session.user, conn.client_info(now_ms()));
  return false;
}

// ---------------------------------------------------------------------------
// EXEC

ExecChecks::~ExecChecks() {
  if (script_args_.empty()) return;
  auto& sc = script_callers();
  std::lock_guard lock(sc.mutex);
  for (const protocol::ArgList* args : script_args_) sc.by_args.erase(args);
  sc.size.store(sc.by_args.size(), std::memory_order_relaxed);
}

bool ExecChecks::permit(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  ClientSession& session = conn.session();
  const uint64_t gen = registry().generation.load(std::memory_order_acquire);
  if (session.acl_generation != gen) {
    session.acl_user = find_user(session.user);
    session.acl_generation = gen;
  }
  const User* u = session.acl_user.get();
  const bool everything = u && u->root.allcommands && u->root.allkeys && u->root.allchannels;
  CheckResult r;
  if (!everything) r = u ? check_command(*u, spec, args) : CheckResult{Denied::kCommand, 0};
  if (r.reason == Denied::kNone) {
    if (runs_script(spec)) {
      // The queued copy of the arguments names the caller for redis.call()
      // (a stale registration of a freed list at the same address is replaced).
      note_script_caller(conn, session.acl_user, !everything, args);
      if (!everything) script_args_.push_back(&args);
    }
    return true;
  }
  std::string_view why;
  std::string object;
  switch (r.reason) {
    case Denied::kCommand:
      why = "no permission to execute the command or subcommand";
      object = std::string(spec.name);
      break;
    case Denied::kKey:
      why = "no permission to touch the specified keys";
      object = std::string(args[r.arg_index]);
      break;
    default:
      why = "no permission to access one of the channels used as arguments";
      object = std::string(args[r.arg_index]);
      break;
  }
  conn.reply().error(fmt::format(
      "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This "
      "command is no longer allowed for the following reason: {}",
      why));
  refresh_log_max_len(conn);
  log_denied(r.reason, "multi", object, session.user, conn.client_info(now_ms()));
  return false;
}

// ---------------------------------------------------------------------------
// Protected mode

const std::string_view kProtectedModeDenied =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    "from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. "
    "Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by "
    "editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the "
    "server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

bool protected_mode_refuses(bool protected_mode, bool default_nopass, std::string_view peer_address) {
  return protected_mode && default_nopass && !is_loopback(peer_address);
}

bool protected_mode_refuses(const Config& config, std::string_view peer_address) {
  bool on;
  {
    std::lock_guard lock(config.string_mutex);
    on = config.protected_mode;
  }
  return protected_mode_refuses(on, default_user_nopass(), peer_address);
}

}  // namespace distcache::server::acl
