#pragma once
// Redis 7.0 ACL: users, their selectors (command bitsets indexed by command
// id, key and channel patterns), passwords (SHA-256), the ACL LOG, the ACL
// file, and the hooks the server calls (permission check in dispatch,
// AUTH, requirepass, protected mode, rename-command, `user` directives).
//
// Users live in one process-wide registry guarded by a mutex. Every change
// bumps a generation counter; a connection caches the compiled permissions
// of its user and refetches them only when the generation moved, so the
// per-command check costs one atomic load when nothing changed.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "server/command.h"

namespace distcache::server {
struct Config;
class Connection;
struct ClientSession;
std::span<const CommandSpec> acl_command_specs();  // commands/acl_commands.cpp (ACL ...)
}  // namespace distcache::server

namespace distcache::server::acl {

enum KeyFlag : uint8_t { kKeyRead = 1, kKeyWrite = 2, kKeyAll = 3 };

struct KeyPattern {
  std::string pattern;
  uint8_t flags = kKeyAll;
};

struct Selector {
  std::vector<uint64_t> allowed;  // bit per command id; the last id is the "future commands" bit
  bool allcommands = false;       // +@all not followed by any removal: everything allowed
  bool allkeys = false;
  bool allchannels = false;
  std::vector<KeyPattern> keys;
  std::vector<std::string> channels;
};

struct User {
  std::string name;
  bool enabled = false;
  bool nopass = false;
  int sanitize = 0;  // 0 none, 1 sanitize-payload, 2 skip-sanitize-payload
  std::vector<std::string> passwords;  // SHA-256 hex, in the order added
  Selector root;
  std::vector<Selector> selectors;
};

// --- commands and categories
// Number of command ids (every command and subcommand, plus the future bit).
size_t command_id_count();
// Category bit by name (without '@'), 0 if unknown; names in Redis's order.
uint64_t category_by_name(std::string_view name);
const std::vector<std::pair<std::string_view, uint64_t>>& categories();

// --- rules
// Applies one SETUSER rule to `user`; returns the error reason (the text after
// "Error in ACL SETUSER modifier '...': ") on failure.
std::optional<std::string> apply_rule(User& user, std::string_view rule);
// Applies a whole SETUSER argument list (selectors may span arguments). On
// error returns the full error text (without "-") and leaves `user` as it was.
std::optional<std::string> apply_rules(User& user, const std::vector<std::string>& rules);
// A new user as ACL SETUSER creates it (off, resetchannels, -@all).
User new_user(std::string_view name);
// ACL LIST line ("user alice on #... ~* &* +@all"), and the rule texts.
std::string describe_user(const User& user);
std::string describe_commands(const Selector& s);
std::string describe_keys(const Selector& s);
std::string describe_channels(const Selector& s, bool list_form);

// --- registry
std::shared_ptr<const User> find_user(std::string_view name);
std::vector<std::shared_ptr<const User>> all_users();  // sorted by name
// Creates or modifies a user atomically; returns Redis's error text on failure.
std::optional<std::string> set_user(std::string_view name, const std::vector<std::string>& rules);
// Returns 1 if deleted, 0 if not present. The default user cannot be deleted (caller checks).
int delete_user(std::string_view name);
uint64_t generation();
// The default user's password follows requirepass ("" = nopass).
void set_requirepass(std::string_view password);
bool default_user_nopass();

// Whether the user exists, is enabled and the password is one of its own.
bool check_password(std::string_view user, std::string_view password);

// --- permission checks
enum class Denied { kNone = 0, kCommand = 1, kKey = 2, kAuth = 3, kChannel = 4 };
struct CheckResult {
  Denied reason = Denied::kNone;
  int arg_index = 0;  // the key / channel argument that was refused
};
CheckResult check_command(const User& user, const CommandSpec& spec, const protocol::ArgList& args);
// Full name as NOPERM shows it: "get", "config|set".
std::string command_full_name(const CommandSpec& spec);

// --- ACL LOG
void log_denied(Denied reason, std::string_view context, std::string_view object, std::string_view username,
                std::string client_info);
void log_reset();
struct LogEntry {
  int64_t count;
  std::string reason, context, object, username, client_info;
  int64_t created_ms;
};
std::vector<LogEntry> log_entries(size_t max);

// --- ACL file
std::string aclfile_path();  // "" if none configured
void set_aclfile_path(std::string path);
// Loads the file (replacing every user); returns Redis's error text on failure.
std::optional<std::string> load_aclfile(const std::string& path);
std::optional<std::string> save_aclfile(const std::string& path);

// --- configuration directives handled here (config file / command line)
// Returns std::nullopt if `argv[0]` is not ours, else the error ("" = ok).
std::optional<std::string> config_directive(const std::vector<std::string>& argv);
// Called once at start-up after the configuration is read: applies `user`
// directives, loads the aclfile, maps requirepass. Returns an error to print.
std::optional<std::string> init_from_config(const Config& config);
// CONFIG SET hook (called with config.string_mutex held): requirepass.
void config_changed(const Config& config, std::string_view name);

// rename-command: the command a client name resolves to (nullptr = unknown).
const CommandSpec* lookup_command(std::string_view name);
bool renames_active();

// --- dispatcher hook: checks the session's user's permissions for the command;
// on denial writes the NOPERM error, logs it and returns false.
bool permit(Connection& conn, ClientSession& session, const CommandSpec& spec, const protocol::ArgList& args);

// Whether a client of `user` may keep these subscriptions (ACL SETUSER
// disconnects subscribers whose channels are no longer allowed, as Redis 7.0).
bool channels_allowed(const User& user, const std::vector<std::string_view>& channels,
                      const std::vector<std::string_view>& patterns);

// --- scripts: whether redis.call() of `args` inside the script started by
// `script_args` (the EVAL/FCALL arguments) is refused for the script's caller;
// returns the script error (and logs the denial with context "lua").
std::optional<std::string> script_call_denied(const protocol::ArgList& script_args, const CommandSpec& spec,
                                              const protocol::ArgList& args);
// A connection's argument list is going away: drop its caller entry (else
// entries of closed connections would pile up until their address is reused).
void forget_script_caller(const protocol::ArgList& script_args);

// --- EXEC: Redis checks the permissions of every queued command again right
// before running it (ACL SETUSER may have run meanwhile, even earlier in the
// same transaction). One ExecChecks lives as long as one EXEC run; it also
// tells redis.call() inside a queued EVAL/FCALL who the caller is (the queued
// copy of the arguments is registered for as long as the EXEC runs).
class ExecChecks {
 public:
  ExecChecks() = default;
  ExecChecks(const ExecChecks&) = delete;
  ExecChecks& operator=(const ExecChecks&) = delete;
  ~ExecChecks();
  // Returns false after writing Redis's NOPERM error (the element of EXEC's
  // reply) and logging the denial with context "multi".
  bool permit(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);

 private:
  std::vector<const protocol::ArgList*> script_args_;  // registered for redis.call() checks
};

// --- acl-pubsub-default (resetchannels | allchannels): the channel rule new
// users and selectors start with (ACL SETUSER of a new user, `reset`, a new
// selector, users of the ACL file). Existing users are not changed. The value
// is read from the configuration before users are created; tests may set it.
void set_pubsub_default_allchannels(bool allchannels);
bool pubsub_default_allchannels();

// --- protected mode: whether a connection from `peer_address` must be refused.
bool protected_mode_refuses(bool protected_mode, bool default_nopass, std::string_view peer_address);
bool protected_mode_refuses(const Config& config, std::string_view peer_address);
extern const std::string_view kProtectedModeDenied;  // "-DENIED ...\r\n"

}  // namespace distcache::server::acl
