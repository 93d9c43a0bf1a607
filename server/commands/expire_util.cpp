#include "server/commands/expire_util.h"

#include <cctype>
#include <limits>

#include "storage/numbers.h"

namespace distcache::server {

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
}  // namespace

ExpireParse parse_set_expire(std::string_view arg, TimeUnit unit, bool absolute, int64_t now_ms,
                             int64_t& abs_ms) {
  int64_t v;
  if (!storage::parse_int64(arg, v)) return ExpireParse::kNotInteger;
  if (v <= 0) return ExpireParse::kInvalid;
  if (unit == TimeUnit::kSeconds) {
    if (v > kMax / 1000) return ExpireParse::kInvalid;
    v *= 1000;
  }
  if (!absolute) {
    int64_t sum;
    if (__builtin_add_overflow(v, now_ms, &sum) || sum <= 0) return ExpireParse::kInvalid;
    v = sum;
  }
  abs_ms = v;
  return ExpireParse::kOk;
}

ExpireParse parse_expire_command_time(std::string_view arg, TimeUnit unit, int64_t base_ms,
                                      int64_t& abs_ms) {
  int64_t v;
  if (!storage::parse_int64(arg, v)) return ExpireParse::kNotInteger;
  if (unit == TimeUnit::kSeconds) {
    if (v > kMax / 1000 || v < kMin / 1000) return ExpireParse::kInvalid;
    v *= 1000;
  }
  if (base_ms > 0 && v > kMax - base_ms) return ExpireParse::kInvalid;
  abs_ms = v + base_ms;  // base_ms >= 0, so no underflow
  return ExpireParse::kOk;
}

std::string invalid_expire_time_error(std::string_view command) {
  std::string msg = "ERR invalid expire time in '";
  msg.append(command);
  msg.append("' command");
  return msg;
}

std::string lower_command_name(const CommandContext& ctx) {
  std::string name(ctx.args[0]);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

void reply_expire_parse_error(CommandContext& ctx, ExpireParse result) {
  if (result == ExpireParse::kNotInteger)
    ctx.reply.error(errors::kNotInteger);
  else
    ctx.reply.error(invalid_expire_time_error(lower_command_name(ctx)));
}

bool apply_expire_or_delete(storage::Db& db, std::string_view key, int64_t abs_ms, int64_t now_ms) {
  if (abs_ms <= now_ms) {
    db.erase(key, now_ms);
    return true;
  }
  db.set_expire(key, abs_ms);
  return false;
}

}  // namespace distcache::server
