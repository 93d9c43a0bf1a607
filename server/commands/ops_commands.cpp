// Introspection and administration: SLOWLOG, LATENCY, MONITOR, LOLWUT,
// DEBUG (a subset), and the CLIENT / MEMORY subcommands of issue 6.
#include "server/commands/ops_commands.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "server/cluster/slot.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/debug_reload.h"
#include "server/ops.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/stats.h"
#include "server/version.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

std::atomic<bool> active_expire{true};

void reply_help(ConnectionContext& ctx, std::initializer_list<std::string_view> lines) {
  ctx.reply.array(lines.size());
  for (auto l : lines) ctx.reply.simple(l);
}

// ---------------------------------------------------------------------------
// SLOWLOG

void slowlog_get(ConnectionContext& ctx) {
  int64_t count = 10;
  if (ctx.args.size() == 3) {
    if (!parse_int64(ctx.args[2], count) || count < -1) {
      ctx.reply.error("ERR count should be greater than or equal to -1");
      return;
    }
  } else if (ctx.args.size() > 3) {
    ctx.reply.error("ERR wrong number of arguments for 'slowlog|get' command");
    return;
  }
  auto entries = stats::slowlog_get(count);
  ctx.reply.array(entries.size());
  for (const auto& e : entries) {
    ctx.reply.array(6);
    ctx.reply.integer(static_cast<int64_t>(e.id));
    ctx.reply.integer(e.time_s);
    ctx.reply.integer(e.duration_us);
    ctx.reply.array(e.args.size());
    for (const auto& a : e.args) ctx.reply.bulk(a);
    ctx.reply.bulk(e.peer);
    ctx.reply.bulk(e.name);
  }
}

void slowlog_len(ConnectionContext& ctx) { ctx.reply.integer(static_cast<int64_t>(stats::slowlog_len())); }

void slowlog_reset(ConnectionContext& ctx) {
  stats::slowlog_reset();
  ctx.reply.ok();
}

void slowlog_help(ConnectionContext& ctx) {
  reply_help(ctx, {"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                   "GET [<count>]",
                   "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                   "    Entries are made of:",
                   "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                   "    client name",
                   "LEN",
                   "    Return the length of the slowlog.",
                   "RESET",
                   "    Reset the slowlog.",
                   "HELP",
                   "    Prints this help."});
}

// ---------------------------------------------------------------------------
// LATENCY

void latency_latest(ConnectionContext& ctx) {
  auto events = stats::latency_events();
  ctx.reply.array(events.size());
  for (const auto& e : events) {
    ctx.reply.array(4);
    ctx.reply.bulk(e.name);
    ctx.reply.integer(e.samples.empty() ? 0 : e.samples.back().time_s);
    ctx.reply.integer(e.samples.empty() ? 0 : static_cast<int64_t>(e.samples.back().latency_ms));
    ctx.reply.integer(static_cast<int64_t>(e.max_ms));
  }
}

const stats::LatencyEvent* find_event(const std::vector<stats::LatencyEvent>& events, std::string_view name) {
  for (const auto& e : events)
    if (e.name == name) return &e;
  return nullptr;
}

void latency_history(ConnectionContext& ctx) {
  auto events = stats::latency_events();
  const auto* e = find_event(events, ctx.args[2]);
  if (!e) {
    ctx.reply.array(0);
    return;
  }
  ctx.reply.array(e->samples.size());
  for (const auto& s : e->samples) {
    ctx.reply.array(2);
    ctx.reply.integer(s.time_s);
    ctx.reply.integer(static_cast<int64_t>(s.latency_ms));
  }
}

void latency_reset(ConnectionContext& ctx) {
  std::vector<std::string> names;
  for (size_t i = 2; i < ctx.args.size(); ++i) names.emplace_back(ctx.args[i]);
  ctx.reply.integer(static_cast<int64_t>(stats::latency_reset(names)));
}

// An ASCII chart of the event's samples (columns = samples, height = latency).
void latency_graph(ConnectionContext& ctx) {
  auto events = stats::latency_events();
  const auto* e = find_event(events, ctx.args[2]);
  if (!e || e->samples.empty()) {
    ctx.reply.error(fmt::format("ERR No samples available for event '{}'", ctx.args[2]));
    return;
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& s : e->samples) {
    lo = std::min(lo, s.latency_ms);
    hi = std::max(hi, s.latency_ms);
  }
  constexpr int kRows = 4;
  std::string out = fmt::format("{} - high {} ms, low {} ms (all time high {} ms)\n", e->name, hi, lo, e->max_ms);
  out += std::string(80, '-') + "\n";
  for (int row = kRows; row >= 1; --row) {
    for (const auto& s : e->samples) {
      const double level = hi == lo ? kRows : 1.0 + (kRows - 1) * static_cast<double>(s.latency_ms - lo) /
                                                         static_cast<double>(hi - lo);
      out += level >= row ? '#' : (row == 1 ? '_' : ' ');
    }
    out += '\n';
  }
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  for (const auto& s : e->samples) {
    int64_t ago = now - s.time_s;
    out += ago < 60 ? 's' : (ago < 3600 ? 'm' : 'h');
  }
  out += '\n';
  ctx.reply.verbatim(out);
}

void latency_doctor(ConnectionContext& ctx) {
  const int64_t threshold = ctx.server.config().latency_monitor_threshold.load(std::memory_order_relaxed);
  auto events = stats::latency_events();
  std::string out;
  if (threshold == 0 && events.empty()) {
    out = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
          "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep "
          "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
  } else if (events.empty()) {
    out = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest "
          "bit. I honestly think you ought to sleep tonight.\n";
  } else {
    out = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you "
          "Dave?\n\n";
    int n = 1;
    for (const auto& e : events) {
      uint64_t sum = 0;
      for (const auto& s : e.samples) sum += s.latency_ms;
      out += fmt::format("{}. {}: {} latency spikes (average {}ms, mean deviation 0ms, period 0 sec). Worst all "
                         "time event {}ms.\n",
                         n++, e.name, e.samples.size(), e.samples.empty() ? 0 : sum / e.samples.size(), e.max_ms);
    }
    out += "\nI have a few advices for you:\n\n- Check your slow log with SLOWLOG GET: commands slower than "
           "slowlog-log-slower-than are recorded there.\n";
  }
  ctx.reply.verbatim(out);
}

void latency_histogram(ConnectionContext& ctx) {
  std::vector<std::string> names;
  for (size_t i = 2; i < ctx.args.size(); ++i) names.emplace_back(ctx.args[i]);
  auto all = stats::latency_histograms(names);
  ctx.reply.map(all.size());
  for (const auto& h : all) {
    ctx.reply.bulk(h.name);
    ctx.reply.map(2);
    ctx.reply.bulk("calls");
    ctx.reply.integer(static_cast<int64_t>(h.calls));
    ctx.reply.bulk("histogram_usec");
    ctx.reply.map(h.buckets.size());
    for (auto [bound, count] : h.buckets) {
      ctx.reply.integer(static_cast<int64_t>(bound));
      ctx.reply.integer(static_cast<int64_t>(count));
    }
  }
}

void latency_help(ConnectionContext& ctx) {
  reply_help(ctx, {"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                   "DOCTOR",
                   "    Return a human readable latency analysis report.",
                   "GRAPH <event>",
                   "    Return an ASCII latency graph for the <event> class.",
                   "HISTORY <event>",
                   "    Return time-latency samples for the <event> class.",
                   "LATEST",
                   "    Return the latest latency samples for all events.",
                   "RESET [<event> ...]",
                   "    Reset latency data of one or more <event> classes.",
                   "    (default: reset all data for all event classes)",
                   "HISTOGRAM [COMMAND ...]",
                   "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
                   "command names.",
                   "    If no commands are specified then all histograms are replied.",
                   "HELP",
                   "    Prints this help."});
}

// ---------------------------------------------------------------------------
// MONITOR, LOLWUT

void monitor(ConnectionContext& ctx) {
  if (ctx.session.monitor) {  // already monitoring: nothing to do (as Redis)
    return;
  }
  ctx.session.monitor = true;
  ops::add_monitor(ctx.connection());
  ctx.reply.ok();
}

void lolwut(ConnectionContext& ctx) {
  int64_t version = 6;
  for (size_t i = 1; i + 1 < ctx.args.size(); i += 2)
    if (is_option(ctx.args[i], "version") && !parse_int64(ctx.args[i + 1], version)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
  // A small deterministic "piece of art": a staircase of Braille blocks.
  std::string out;
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 20; ++col) out += (col / 5 >= 3 - row) ? "\u28ff" : "\u2800";
    out += '\n';
  }
  out += fmt::format("\nRedis ver. {}\n", kRedisCompatVersion);
  ctx.reply.verbatim(out);
}

// ---------------------------------------------------------------------------
// DEBUG (the subset tools and test suites use)

bool debug_allowed(ConnectionContext& ctx) {
  auto v = config_get(ctx.server.config(), "enable-debug-command");
  const std::string mode = v.empty() ? "yes" : v.front().second;
  if (mode == "yes") return true;
  if (mode == "local") {
    const std::string& peer = ctx.session.peer;
    if (peer.rfind("127.", 0) == 0 || peer.rfind("[::1]", 0) == 0 || peer.empty()) return true;
  }
  ctx.reply.error(
      "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from "
      "a local connection, otherwise you need to set this option in the configuration file, and then restart the "
      "server.");
  return false;
}

void debug_object(ConnectionContext& ctx) {
  std::string key(ctx.args[2]);
  const unsigned owner = shard_of_key(key, ctx.server.shard_count());
  auto result = std::make_shared<std::string>();
  const int db = ctx.session.db;
  const int64_t now = ctx.now_ms;
  auto& reply = ctx.reply;
  ctx.for_each_shard_reading(
      [result, key, owner, db, now](ShardThread& shard) {
        if (shard.index() != owner) return;
        const storage::Value* v = shard.keyspace().db(static_cast<size_t>(db)).find(key, now);
        if (!v) return;
        *result = fmt::format("Value at:{} refcount:1 encoding:{} serializedlength:{} lru:0 lru_seconds_idle:0",
                              static_cast<const void*>(v), v->encoding_name(),
                              v->is_string() ? v->heap_bytes() + 1 : v->heap_bytes());
      },
      [result, &reply] {
        if (result->empty())
          reply.error("ERR no such key");
        else
          reply.simple(*result);
      });
}

void debug(ConnectionContext& ctx) {
  if (!debug_allowed(ctx)) return;
  std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  auto unknown = [&] {
    ctx.reply.error(fmt::format("ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.", sub));
  };
  if (is_option(sub, "help")) {
    reply_help(ctx, {"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                     "OBJECT <key>",
                     "    Show low level info about the <key> and associated value.",
                     "SET-ACTIVE-EXPIRE <0|1>",
                     "    Setting it to 0 disables expiring keys in background when they are not accessed (otherwise "
                     "the Redis behavior). Setting it to 1 reenables back the default.",
                     "SLEEP <seconds>",
                     "    Stop the server for <seconds>. Decimals allowed.",
                     "HELP",
                     "    Prints this help."});
  } else if (is_option(sub, "sleep") && argc == 3) {
    double seconds = 0;
    if (!storage::parse_double(ctx.args[2], seconds) || seconds < 0 || std::isnan(seconds)) seconds = 0;
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
    ctx.reply.ok();
  } else if (is_option(sub, "set-active-expire") && argc == 3) {
    int64_t on = 0;
    parse_int64(ctx.args[2], on);
    active_expire.store(on != 0);
    ctx.reply.ok();
  } else if (is_option(sub, "object") && argc == 3) {
    debug_object(ctx);
  } else if (is_option(sub, "reload")) {
    debug_reload(ctx);  // server/debug_reload.h
  } else {
    unknown();
  }
}

// ---------------------------------------------------------------------------
// CLIENT

bool parse_client_type(std::string_view t, int& type) {
  // 0 normal, 1 replica, 2 master, 3 pubsub
  if (is_option(t, "normal")) type = 0;
  else if (is_option(t, "slave") || is_option(t, "replica")) type = 1;
  else if (is_option(t, "master")) type = 2;
  else if (is_option(t, "pubsub")) type = 3;
  else return false;
  return true;
}

int client_type(const ClientSession& s) { return s.subscribed() ? 3 : 0; }

}  // namespace

void client_list_command(ConnectionContext& ctx) {
  std::vector<uint64_t> ids;
  int type = -1;
  const auto& args = ctx.args;
  if (args.size() == 4 && is_option(args[2], "type")) {
    if (!parse_client_type(args[3], type)) {
      ctx.reply.error(fmt::format("ERR Unknown client type '{}'", args[3]));
      return;
    }
  } else if (args.size() >= 4 && is_option(args[2], "id")) {
    for (size_t i = 3; i < args.size(); ++i) {
      int64_t id;
      if (!parse_int64(args[i], id) || id <= 0) {
        ctx.reply.error("ERR Invalid client ID");
        return;
      }
      ids.push_back(static_cast<uint64_t>(id));
    }
  } else if (args.size() != 2) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  auto lines = std::make_shared<std::vector<std::vector<std::pair<uint64_t, std::string>>>>(ctx.server.shard_count());
  const int64_t now = ctx.now_ms;
  auto& reply = ctx.reply;
  ctx.session.last_command = ctx.spec.name;  // CLIENT LIST shows itself as the current command
  ctx.for_each_shard_reading(
      [lines, ids, type, now](ShardThread& shard) {
        auto& out = (*lines)[shard.index()];
        for (auto& c : shard.connections()) {
          const ClientSession& s = c->session();
          if (!ids.empty() && std::find(ids.begin(), ids.end(), s.id) == ids.end()) continue;
          if (type >= 0 && client_type(s) != type) continue;
          out.emplace_back(s.id, c->client_info(now));
        }
      },
      [lines, &reply] {
        std::vector<std::pair<uint64_t, std::string>> all;
        for (auto& l : *lines) all.insert(all.end(), l.begin(), l.end());
        std::sort(all.begin(), all.end());
        std::string text;
        for (auto& [id, line] : all) {
          text += line;
          text += '\n';
        }
        reply.verbatim(text);
      });
}

void client_kill_command(ConnectionContext& ctx) {
  struct Filter {
    std::string addr, laddr, user;
    uint64_t id = 0;
    int type = -1;
    int64_t max_age = 0;
    bool skipme = true;
  } f;
  const auto& args = ctx.args;
  const bool old_form = args.size() == 3;
  if (old_form) {
    f.addr = std::string(args[2]);
    f.skipme = false;  // with the old form a client may kill itself
  } else {
    for (size_t i = 2; i < args.size(); i += 2) {
      if (i + 1 >= args.size()) {
        ctx.reply.error(errors::kSyntax);
        return;
      }
      std::string_view opt = args[i], val = args[i + 1];
      if (is_option(opt, "id")) {
        int64_t v;
        if (!parse_int64(val, v) || v <= 0) {
          ctx.reply.error("ERR client-id should be greater than 0");
          return;
        }
        f.id = static_cast<uint64_t>(v);
      } else if (is_option(opt, "type")) {
        if (!parse_client_type(val, f.type)) {
          ctx.reply.error(fmt::format("ERR Unknown client type '{}'", val));
          return;
        }
      } else if (is_option(opt, "user")) {
        f.user = std::string(val);
      } else if (is_option(opt, "addr")) {
        f.addr = std::string(val);
      } else if (is_option(opt, "laddr")) {
        f.laddr = std::string(val);
      } else if (is_option(opt, "skipme")) {
        if (is_option(val, "yes")) {
          f.skipme = true;
        } else if (is_option(val, "no")) {
          f.skipme = false;
        } else {
          ctx.reply.error(errors::kSyntax);
          return;
        }
      } else if (is_option(opt, "maxage")) {
        if (!parse_int64(val, f.max_age)) {
          ctx.reply.error(errors::kNotInteger);
          return;
        }
      } else {
        ctx.reply.error(errors::kSyntax);
        return;
      }
    }
  }
  auto killed = std::make_shared<std::atomic<int64_t>>(0);
  const uint64_t self_id = ctx.session.id;
  const int64_t now = ctx.now_ms;
  auto& reply = ctx.reply;
  ctx.for_each_shard(
      [=](ShardThread& shard) {
        for (auto& c : shard.connections()) {
          ClientSession& s = c->session();
          if (f.id && s.id != f.id) continue;
          if (!f.addr.empty() && s.peer != f.addr) continue;
          if (!f.laddr.empty() && s.local != f.laddr) continue;
          if (!f.user.empty() && s.user != f.user) continue;
          if (f.type >= 0 && client_type(s) != f.type) continue;
          if (f.max_age > 0 && (now - s.created_ms) / 1000 < f.max_age) continue;
          if (s.id == self_id) {
            if (f.skipme) continue;
            s.close_after_reply = true;  // our own reply is still sent first
          } else {
            c->close();
          }
          killed->fetch_add(1);
        }
      },
      [killed, &reply, old_form] {
        if (old_form) {
          if (*killed == 0)
            reply.error("ERR No such client");
          else
            reply.ok();
        } else {
          reply.integer(*killed);
        }
      });
}

void client_pause_command(ConnectionContext& ctx) {
  int64_t timeout;
  if (!parse_int64(ctx.args[2], timeout)) {
    ctx.reply.error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.error("ERR timeout is negative");
    return;
  }
  int mode = 2;
  if (ctx.args.size() == 4) {
    if (is_option(ctx.args[3], "write"))
      mode = 1;
    else if (!is_option(ctx.args[3], "all")) {
      ctx.reply.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  } else if (ctx.args.size() > 4) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  ops::pause_clients(unix_time_ms() + timeout, mode);
  ctx.reply.ok();
}

void client_unpause_command(ConnectionContext& ctx) {
  ops::unpause_clients();
  ctx.reply.ok();
}

void client_reply_command(ConnectionContext& ctx) {
  std::string_view mode = ctx.args[2];
  ClientSession& s = ctx.session;
  if (is_option(mode, "on")) {
    s.reply_mode = ClientSession::kReplyOn;
    if (s.saved_reply_buffer) {
      ctx.reply.set_buffer(s.saved_reply_buffer);
      s.saved_reply_buffer = nullptr;
    }
    ctx.reply.ok();
  } else if (is_option(mode, "off") || is_option(mode, "skip")) {
    // No reply to this command either.
    s.reply_mode = is_option(mode, "off") ? ClientSession::kReplyOff : ClientSession::kReplySkipNext;
    if (!s.saved_reply_buffer) {
      s.saved_reply_buffer = ctx.reply.buffer();
      static thread_local std::string discarded;
      discarded.clear();
      ctx.reply.set_buffer(&discarded);
    }
  } else {
    ctx.reply.error(errors::kSyntax);
  }
}

namespace {
void on_off_flag(ConnectionContext& ctx, bool& flag) {
  if (is_option(ctx.args[2], "on")) {
    flag = true;
  } else if (is_option(ctx.args[2], "off")) {
    flag = false;
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  ctx.reply.ok();
}
}  // namespace

void client_no_evict_command(ConnectionContext& ctx) { on_off_flag(ctx, ctx.session.no_evict); }
void client_no_touch_command(ConnectionContext& ctx) { on_off_flag(ctx, ctx.session.no_touch); }

void client_setinfo_command(ConnectionContext& ctx) {
  std::string_view attr = ctx.args[2], value = ctx.args[3];
  const bool name = is_option(attr, "lib-name");
  if (!name && !is_option(attr, "lib-ver")) {
    ctx.reply.error(fmt::format("ERR Unrecognized option '{}'", attr));
    return;
  }
  for (char c : value)
    if (c < '!' || c > '~') {
      ctx.reply.error(fmt::format("ERR {} cannot contain spaces, newlines or special characters.",
                                  name ? "lib-name" : "lib-ver"));
      return;
    }
  (name ? ctx.session.lib_name : ctx.session.lib_version) = std::string(value);
  ctx.reply.ok();
}

void client_help_command(ConnectionContext& ctx) {
  reply_help(ctx, {"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                   "CACHING (YES|NO)",
                   "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                   "GETREDIR",
                   "    Return the client ID we are redirecting to when tracking is enabled.",
                   "GETNAME",
                   "    Return the name of the current connection.",
                   "ID",
                   "    Return the ID of the current connection.",
                   "INFO",
                   "    Return information about the current client connection.",
                   "KILL <ip:port>",
                   "    Kill connection made from <ip:port>.",
                   "KILL <option> <value> [<option> <value> [...]]",
                   "    Kill connections. Options are:",
                   "    * ADDR (<ip:port>|<unixsocket>:0)",
                   "      Kill connections made from the specified address",
                   "    * LADDR (<ip:port>|<unixsocket>:0)",
                   "      Kill connections made to specified local address",
                   "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                   "      Kill connections by type.",
                   "    * USER <username>",
                   "      Kill connections authenticated by <username>.",
                   "    * SKIPME (YES|NO)",
                   "      Skip killing current connection (default: yes).",
                   "    * ID <client-id>",
                   "      Kill connections by client id.",
                   "    * MAXAGE <maxage>",
                   "      Kill connections older than the specified age.",
                   "LIST [options ...]",
                   "    Return information about client connections. Options:",
                   "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                   "      Return clients of specified type.",
                   "UNPAUSE",
                   "    Stop the current client pause, resuming traffic.",
                   "PAUSE <timeout> [WRITE|ALL]",
                   "    Suspend all, or just write, clients for <timeout> milliseconds.",
                   "REPLY (ON|OFF|SKIP)",
                   "    Control the replies sent to the current connection.",
                   "SETNAME <name>",
                   "    Assign the name <name> to the current connection.",
                   "SETINFO <option> <value>",
                   "    Set client meta attr. Options are:",
                   "    * LIB-NAME: the client lib name.",
                   "    * LIB-VER: the client lib version.",
                   "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                   "    Unblock the specified blocked client.",
                   "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
                   "         [OPTIN] [OPTOUT] [NOLOOP]",
                   "    Control server assisted client side caching.",
                   "TRACKINGINFO",
                   "    Report tracking status for the current connection.",
                   "NO-EVICT (ON|OFF)",
                   "    Protect current client connection from eviction.",
                   "NO-TOUCH (ON|OFF)",
                   "    Will not touch LRU/LFU stats when this mode is on.",
                   "HELP",
                   "    Prints this help."});
}

// ---------------------------------------------------------------------------
// MEMORY

namespace {

uint64_t allocated_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

uint64_t rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::atomic<uint64_t> peak_allocated{0};

uint64_t update_peak(uint64_t used) {
  uint64_t peak = peak_allocated.load();
  while (used > peak && !peak_allocated.compare_exchange_weak(peak, used)) {
  }
  return std::max(peak, used);
}

}  // namespace

void memory_stats_command(ConnectionContext& ctx) {
  const size_t databases = static_cast<size_t>(ctx.server.config().databases);
  struct Counts {
    std::vector<uint64_t> keys, expires;
  };
  auto per_shard = std::make_shared<std::vector<Counts>>(ctx.server.shard_count());
  auto& reply = ctx.reply;
  Server& server = ctx.server;
  ctx.for_each_shard_reading(
      [per_shard, databases](ShardThread& s) {
        auto& c = (*per_shard)[s.index()];
        for (size_t d = 0; d < databases; ++d) {
          c.keys.push_back(s.keyspace().db(d).size());
          c.expires.push_back(s.keyspace().db(d).expires_size());
        }
      },
      [per_shard, databases, &reply, &server] {
        std::vector<uint64_t> keys(databases), expires(databases);
        uint64_t total_keys = 0;
        for (auto& c : *per_shard)
          for (size_t d = 0; d < databases; ++d) {
            keys[d] += c.keys[d];
            expires[d] += c.expires[d];
            total_keys += c.keys[d];
          }
        const uint64_t used = allocated_bytes(), rss = rss_bytes(), peak = update_peak(used);
        const uint64_t clients = static_cast<uint64_t>(server.stats().connected_clients.load()) * 40000;
        const uint64_t startup = 0;
        uint64_t overhead = startup + clients;
        size_t dbs_shown = 0;
        for (size_t d = 0; d < databases; ++d)
          if (keys[d]) {
            ++dbs_shown;
            overhead += keys[d] * 16 + expires[d] * 16;
          }
        const uint64_t dataset = used > overhead ? used - overhead : 0;
        reply.map(27 + dbs_shown);
        auto field_int = [&](std::string_view name, uint64_t v) {
          reply.bulk(name);
          reply.integer(static_cast<int64_t>(v));
        };
        auto field_double = [&](std::string_view name, double v) {
          reply.bulk(name);
          reply.double_value(v);
        };
        field_int("peak.allocated", peak);
        field_int("total.allocated", used);
        field_int("startup.allocated", startup);
        field_int("replication.backlog", 0);
        field_int("clients.slaves", 0);
        field_int("clients.normal", clients);
        field_int("cluster.links", 0);
        field_int("aof.buffer", 0);
        field_int("lua.caches", 0);
        field_int("functions.caches", 0);
        for (size_t d = 0; d < databases; ++d) {
          if (!keys[d]) continue;
          reply.bulk(fmt::format("db.{}", d));
          reply.map(2);
          field_int("overhead.hashtable.main", keys[d] * 16);
          field_int("overhead.hashtable.expires", expires[d] * 16);
        }
        field_int("overhead.total", overhead);
        field_int("keys.count", total_keys);
        field_int("keys.bytes-per-key", total_keys ? (used > startup ? used - startup : 0) / total_keys : 0);
        field_int("dataset.bytes", dataset);
        field_double("dataset.percentage", used ? 100.0 * static_cast<double>(dataset) / static_cast<double>(used) : 0);
        field_double("peak.percentage", peak ? 100.0 * static_cast<double>(used) / static_cast<double>(peak) : 0);
        field_int("allocator.allocated", used);
        field_int("allocator.active", used);
        field_int("allocator.resident", rss);
        field_double("allocator-fragmentation.ratio", 1.0);
        field_int("allocator-fragmentation.bytes", 0);
        field_double("allocator-rss.ratio", used ? static_cast<double>(rss) / static_cast<double>(used) : 0);
        field_int("allocator-rss.bytes", rss > used ? rss - used : 0);
        field_double("rss-overhead.ratio", 1.0);
        field_int("rss-overhead.bytes", 0);
        field_double("fragmentation", used ? static_cast<double>(rss) / static_cast<double>(used) : 0);
        field_int("fragmentation.bytes", rss > used ? rss - used : 0);
      });
}

void memory_doctor_command(ConnectionContext& ctx) {
  const uint64_t used = allocated_bytes();
  std::string text;
  if (used < 5 * 1024 * 1024)
    text = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in "
           "these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I "
           "will be back to our programming as soon as I finished rebooting.";
  else
    text = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this "
           "base.";
  ctx.reply.verbatim(text);
}

void memory_purge_command(ConnectionContext& ctx) {
  malloc_trim(0);
  ctx.reply.ok();
}

void memory_malloc_stats_command(ConnectionContext& ctx) {
  ctx.reply.verbatim("Stats not supported for the current allocator");
}

bool active_expire_enabled() { return active_expire.load(std::memory_order_relaxed); }

namespace {

constexpr uint32_t kAdmin = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint64_t kAdminAcl = kAclAdmin | kAclSlow | kAclDangerous;

const CommandSpec kSlowlogSubcommands[] = {
    {.name = "slowlog|get", .arity = -2, .flags = kAdmin, .acl = kAdminAcl, .connection = slowlog_get,
     .group = "server", .summary = "Returns the slow log's entries.", .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries returned"},
    {.name = "slowlog|len", .arity = 2, .flags = kAdmin, .acl = kAdminAcl, .connection = slowlog_len,
     .group = "server", .summary = "Returns the number of entries in the slow log.", .since = "2.2.12",
     .complexity = "O(1)"},
    {.name = "slowlog|reset", .arity = 2, .flags = kAdmin, .acl = kAdminAcl, .connection = slowlog_reset,
     .group = "server", .summary = "Clears all entries from the slow log.", .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries in the slowlog"},
    {.name = "slowlog|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclSlow,
     .connection = slowlog_help, .group = "server", .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0", .complexity = "O(1)"},
};

const CommandSpec kLatencySubcommands[] = {
    {.name = "latency|latest", .arity = 2, .flags = kAdmin, .acl = kAdminAcl, .connection = latency_latest,
     .group = "server", .summary = "Returns the latest latency samples for all events.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "latency|history", .arity = 3, .flags = kAdmin, .acl = kAdminAcl, .connection = latency_history,
     .group = "server", .summary = "Returns timestamp-latency samples for an event.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "latency|reset", .arity = -2, .flags = kAdmin, .acl = kAdminAcl, .connection = latency_reset,
     .group = "server", .summary = "Resets the latency data for one or more events.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "latency|graph", .arity = 3, .flags = kAdmin, .acl = kAdminAcl, .connection = latency_graph,
     .group = "server", .summary = "Returns a latency graph for an event.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "latency|doctor", .arity = 2, .flags = kAdmin, .acl = kAdminAcl, .connection = latency_doctor,
     .group = "server", .summary = "Returns a human-readable latency analysis report.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "latency|histogram", .arity = -2, .flags = kAdmin, .acl = kAdminAcl,
     .connection = latency_histogram, .group = "server",
     .summary = "Returns the cumulative distribution of latencies of a subset or all commands.", .since = "7.0.0",
     .complexity = "O(N) where N is the number of commands with latency information being retrieved."},
    {.name = "latency|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclSlow,
     .connection = latency_help, .group = "server", .summary = "Returns helpful text about the different subcommands.",
     .since = "2.8.13", .complexity = "O(1)"},
};

const CommandSpec kOpsCommands[] = {
    {.name = "slowlog", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "server",
     .summary = "A container for slow log commands.", .since = "2.2.12", .complexity = "Depends on subcommand.",
     .subcommands = kSlowlogSubcommands},
    {.name = "latency", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "server",
     .summary = "A container for latency diagnostics commands.", .since = "2.8.13",
     .complexity = "Depends on subcommand.", .subcommands = kLatencySubcommands},
    {.name = "monitor", .arity = 1, .flags = kAdmin | kCmdNoMulti, .acl = kAdminAcl, .connection = monitor,
     .group = "server", .summary = "Listens for all requests received by the server in real-time.",
     .since = "1.0.0", .complexity = ""},
    {.name = "lolwut", .arity = -1, .flags = kCmdReadonly | kCmdFast, .acl = kAclRead | kAclFast,
     .connection = lolwut, .group = "server", .summary = "Displays computer art and the Redis version",
     .since = "5.0.0", .complexity = ""},
    {.name = "debug", .arity = -2, .flags = kAdmin | kCmdNoscript, .acl = kAdminAcl, .connection = debug,
     .group = "server", .summary = "A container for debugging commands.", .since = "1.0.0",
     .complexity = "Depends on subcommand."},
};

}  // namespace

std::span<const CommandSpec> ops_command_specs() { return kOpsCommands; }

}  // namespace distcache::server
