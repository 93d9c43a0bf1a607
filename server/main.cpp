// distcache-server: a Redis-compatible in-memory data store.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "server/config.h"
#include "server/log.h"
#include "server/server.h"
#include "server/version.h"

using namespace distcache::server;

namespace {

bool write_pidfile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f, "%d\n", static_cast<int>(getpid()));
  std::fclose(f);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  static Config config;
  LoadResult loaded = load_config(config, argc, argv);
  if (loaded.exit_now) return loaded.exit_code;
  if (!loaded.ok) {
    std::cerr << loaded.error << std::endl;
    return 1;
  }
  if (config.daemonize) {
    if (daemon(1, config.logfile.empty() ? 0 : 1) != 0) {
      std::perror("daemon");
      return 1;
    }
  }
  log_init(config.logfile, static_cast<LogLevel>(config.loglevel.load()));
  if (config.syslog_enabled && !log_enable_syslog(config.syslog_ident, config.syslog_facility)) {
    std::cerr << "Invalid log facility. Must be one of USER or between LOCAL0-LOCAL7" << std::endl;
    return 1;
  }
  if (!config.pidfile.empty() && !write_pidfile(config.pidfile))
    log(LogLevel::kWarning, "Failed to write PID file: {}", config.pidfile);

  Server server(config);
  log(LogLevel::kNotice, "distcache {} (Redis {} compatible) starting, pid={}, port={}, threads={}",
      kDistcacheVersion, kRedisCompatVersion, getpid(), config.port, server.shard_count());
  if (config.config_file.empty())
    log(LogLevel::kWarning, "Warning: no config file specified, using the default config. In order to specify a "
                            "config file use {} /path/to/redis.conf",
        argv[0]);
  else
    log(LogLevel::kNotice, "Configuration loaded from {}", config.config_file);

  int code = server.run();
  if (!config.pidfile.empty()) unlink(config.pidfile.c_str());
  return code;
}
