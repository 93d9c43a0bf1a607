#pragma once
// Helpers shared by the string and key command families: expire-time
// arguments of SET / GETEX / SETEX / PSETEX and EXPIRE / PEXPIRE / EXPIREAT /
// PEXPIREAT, and option-word matching.
#include <cstdint>
#include <string>
#include <string_view>

#include "server/command.h"
#include "server/commands/arg_util.h"

namespace distcache::server {

enum class TimeUnit { kSeconds, kMilliseconds };

enum class ExpireParse {
  kOk,
  kNotInteger,  // reply errors::kNotInteger
  kInvalid,     // reply invalid_expire_time_error(command)
};

// SET-style expire argument (EX/PX relative, EXAT/PXAT absolute): the value
// must be a positive integer and the resulting absolute time in ms must not
// overflow. On success `abs_ms` is the unix time in ms when the key expires
// (which may already be in the past for EXAT/PXAT).
ExpireParse parse_set_expire(std::string_view arg, TimeUnit unit, bool absolute, int64_t now_ms,
                             int64_t& abs_ms);

// EXPIRE-style time argument: any integer (negative = in the past); `base_ms`
// is now for EXPIRE/PEXPIRE and 0 for EXPIREAT/PEXPIREAT. Rejects overflow of
// the unit conversion or of the addition.
ExpireParse parse_expire_command_time(std::string_view arg, TimeUnit unit, int64_t base_ms,
                                      int64_t& abs_ms);

// "ERR invalid expire time in 'set' command"; `command` is the lower-case name.
std::string invalid_expire_time_error(std::string_view command);

// Lower-case copy of the command name as sent (args[0]); error texts that
// name the command use Redis's lower-case names.
std::string lower_command_name(const CommandContext& ctx);

// Replies with the error for a failed parse (kNotInteger or kInvalid).
void reply_expire_parse_error(CommandContext& ctx, ExpireParse result);

// Applies an absolute expiry to the existing key `key` of `db`: a time at or
// before now deletes the key (as EXPIRE and GETEX EXAT/PXAT do). Returns true
// when it deleted the key (callers notify "del" then, else "expire").
bool apply_expire_or_delete(storage::Db& db, std::string_view key, int64_t abs_ms, int64_t now_ms);

}  // namespace distcache::server
