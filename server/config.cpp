// Start-up configuration: redis-server's argv syntax and redis.conf files.
//
// Like redis-server, the command line is turned into configuration text that
// is conceptually appended to the config file ("--port 7000 --save 60 1" adds
// the lines `port "7000"` and `save "60" "1"`), and the whole text is then
// read line by line. Doing it this way (rather than with
// Boost.Program_options, whose model is one value per option and which cannot
// express "values run until the next --name", `--save` with no value, or a
// positional config file mixed with directives) gives the same semantics and
// the same error reports as Redis, including the line numbers of command-line
// options. The option table and the typed parsing live in config_options.cpp.
#include <glob.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "protocol/repr.h"
#include "server/config.h"
#include "server/version.h"

namespace distcache::server {

namespace detail {
// Defined in config_options.cpp.
void reset_to_defaults(Config& config);
std::optional<std::string> apply_directive(Config& config, bool& save_seen, const std::vector<std::string>& argv);
std::string options_help();
}  // namespace detail

namespace {

constexpr int kMaxIncludeDepth = 16;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits a config line into arguments with redis.conf quoting rules:
// "double quotes" with \n \r \t \b \a \xHH and \<any> escapes, 'single
// quotes' with \' only; a closing quote must be followed by a space or the end
// of the line. Returns false on unbalanced quotes.
bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  size_t i = 0;
  const size_t n = line.size();
  for (;;) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) return true;
    std::string arg;
    bool in_double = false, in_single = false;
    for (;;) {
      if (in_double) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          arg += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
          i += 4;
        } else if (c == '\\' && i + 1 < n) {
          char e = line[i + 1];
          switch (e) {
            case 'n': arg += '\n'; break;
            case 'r': arg += '\r'; break;
            case 't': arg += '\t'; break;
            case 'b': arg += '\b'; break;
            case 'a': arg += '\a'; break;
            default: arg += e; break;
          }
          i += 2;
        } else if (c == '"') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          ++i;
          break;
        } else {
          arg += c;
          ++i;
        }
      } else if (in_single) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          arg += '\'';
          i += 2;
        } else if (c == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          ++i;
          break;
        } else {
          arg += c;
          ++i;
        }
      } else {
        if (i >= n) break;
        char c = line[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') break;
        if (c == '"') {
          in_double = true;
        } else if (c == '\'') {
          in_single = true;
        } else {
          arg += c;
        }
        ++i;
      }
    }
    out.push_back(std::move(arg));
  }
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// Reads a whole file; on failure sets `error` to the strerror() text.
bool read_file(const std::string& path, std::string& content, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = std::strerror(errno);
    return false;
  }
  content.clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
  bool failed = std::ferror(f);
  int saved = errno;
  std::fclose(f);
  if (failed) {
    error = std::strerror(saved);  // e.g. "Is a directory"
    return false;
  }
  return true;
}

class Loader {
 public:
  explicit Loader(Config& config) : config_(config) {}

  // Reads `text` as configuration lines. Lines up to `file_lines` come from
  // `file` (for the error report); later ones from the command line.
  bool process(std::string_view text, const std::string& file, size_t file_lines, int depth) {
    size_t line_no = 0;
    size_t pos = 0;
    std::vector<std::string> argv;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view raw = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      std::string_view line = trim(raw);
      if (line.empty() || line[0] == '#') continue;
      std::string where = line_no <= file_lines ? "in file " + file : "in the command line options";
      if (!split_args(line, argv)) return fail(line_no, line, "Unbalanced quotes in configuration line", where);
      if (argv.empty()) continue;
      if (iequals(argv[0], "include") && argv.size() == 2) {
        if (!include(argv[1], depth + 1)) return false;
        continue;
      }
      if (auto err = detail::apply_directive(config_, save_seen_, argv)) return fail(line_no, line, *err, where);
    }
    return true;
  }

  // Loads one file (or every file matching a glob pattern).
  bool include(const std::string& pattern, int depth) {
    if (depth > kMaxIncludeDepth) {
      error_ = fmt::format("Fatal error, too many nested includes (an include loop?) at '{}'", pattern);
      return false;
    }
    std::vector<std::string> files;
    if (pattern.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
      if (rc == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
      globfree(&g);
      if (rc != 0 && rc != GLOB_NOMATCH) {
        error_ = fmt::format("Fatal error, can't open config file '{}': {}", pattern, std::strerror(errno));
        return false;
      }
    } else {
      files.push_back(pattern);
    }
    for (const auto& f : files) {
      std::string content, err;
      if (!read_file(f, content, err)) {
        error_ = fmt::format("Fatal error, can't open config file '{}': {}", f, err);
        return false;
      }
      if (!process(content, absolute_path(f), SIZE_MAX, depth)) return false;
    }
    return true;
  }

  const std::string& error() const { return error_; }
  void set_error(std::string e) { error_ = std::move(e); }

 private:
  bool fail(size_t line_no, std::string_view line, std::string_view message, const std::string& where) {
    error_ = fmt::format(
        "*** FATAL CONFIG FILE ERROR (Redis {}) ***\n"
        "Reading the configuration file, at line {}\n"
        ">>> '{}'\n"
        "{}\n"
        "{}",
        kRedisCompatVersion, line_no, line, message, where);
    return false;
  }

  Config& config_;
  bool save_seen_ = false;
  std::string error_;
};

LoadResult fatal(std::string message) {
  LoadResult r;
  r.ok = false;
  r.exit_code = 1;
  r.error = std::move(message);
  return r;
}

}  // namespace

LoadResult load_config(Config& config, int argc, const char* const* argv) {
  detail::reset_to_defaults(config);
  LoadResult result;
  if (argc >= 2) {
    std::string_view first = argv[1];
    if (first == "-v" || first == "--version") {
      std::cout << "distcache-server v=" << kDistcacheVersion << std::endl;
      result.exit_now = true;
      return result;
    }
    if (first == "-h" || first == "--help") {
      std::cout << config_help() << std::flush;
      result.exit_now = true;
      return result;
    }
  }

  // The config file is the first argument when it is not an option.
  std::string config_file;
  int j = 1;
  if (argc >= 2 && argv[1][0] != '-') {
    config_file = argv[1];
    j = 2;
  }

  // Command-line options become configuration text, as redis-server does:
  // "--name" starts a line, every other argument is appended quoted. An
  // argument that starts with "--" right after a bare "--name" is that
  // option's value ("--requirepass --secret"), except after "--save", which
  // then means `save ""`.
  std::string options;
  bool last_option_has_arg = true;
  for (; j < argc; ++j) {
    std::string_view arg = argv[j];
    if (arg == "-" && (j == 1 || j == argc - 1))
      return fatal("Fatal error, reading the configuration from standard input ('-') is not supported");
    if (last_option_has_arg && arg.size() >= 2 && arg[0] == '-' && arg[1] == '-') {
      if (!options.empty()) options += '\n';
      options += arg.substr(2);
      options += ' ';
      std::vector<std::string> parts;
      bool balanced = split_args(arg, parts);
      if (balanced && parts.size() == 1) {
        last_option_has_arg = false;  // a bare "--name": values follow
        bool is_save = iequals(arg, "--save");
        if (is_save && j + 1 < argc && std::string_view(argv[j + 1]).substr(0, 2) == "--") {
          options += "\"\"";
          last_option_has_arg = true;
        } else if (is_save && j == argc - 1) {
          options += "\"\"";
        }
      } else {
        last_option_has_arg = true;  // "--port 6380" given as one argument
      }
    } else {
      options += protocol::repr(arg);
      options += ' ';
      last_option_has_arg = true;
    }
  }

  std::string text;
  std::string file_label;
  size_t file_lines = 0;
  if (!config_file.empty()) {
    file_label = absolute_path(config_file);
    std::string err;
    if (!read_file(config_file, text, err))
      return fatal(fmt::format("Fatal error, can't open config file '{}': {}", file_label, err));
    file_lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  }
  text += '\n';
  text += options;

  Loader loader(config);
  if (!loader.process(text, file_label, file_lines, 0)) return fatal(loader.error());
  if (!config_file.empty()) {
    std::lock_guard lock(config.string_mutex);
    config.config_file = file_label;
  }
  return result;
}

std::string config_help() {
  std::string out =
      "Usage: ./distcache-server [/path/to/redis.conf] [options]\n"
      "       ./distcache-server -v or --version\n"
      "       ./distcache-server -h or --help\n"
      "\n"
      "Examples:\n"
      "       ./distcache-server (run the server with default config)\n"
      "       ./distcache-server /etc/redis/6379.conf\n"
      "       ./distcache-server --port 7777\n"
      "       ./distcache-server --port 7777 --threads 4 --save \"\"\n"
      "       ./distcache-server /etc/myredis.conf --loglevel verbose --save 60 1000 300 10\n"
      "\n"
      "Options are redis.conf directives: in a config file write `name value ...`,\n"
      "on the command line `--name value ...` (the values run until the next\n"
      "--name). Command-line options are applied after the config file. A config\n"
      "file may `include` other files (glob patterns allowed). Memory sizes take\n"
      "the units b, k (1000), kb (1024), m, mb, g and gb, in any case.\n";
  out += detail::options_help();
  return out;
}

}  // namespace distcache::server
