#include "persistence/aof_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "protocol/repr.h"

namespace distcache::persistence {
namespace {

constexpr size_t kManifestMaxLine = 1024;  // Redis reads lines with fgets into 1024 + 1 bytes

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// C's atoll: leading white space, optional sign, digits; stops at the first
// other character (0 when there are no digits).
int64_t atoll_like(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

std::string_view trim(std::string_view s, std::string_view chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(chars);
  return s.substr(b, e - b + 1);
}

void append_line(std::string& out, const AofFileInfo& f) {
  out += "file ";
  out += needs_repr(f.name) ? protocol::repr(f.name) : f.name;
  out += " seq ";
  out += std::to_string(f.seq);
  out += " type ";
  out += static_cast<char>(f.type);
  out += '\n';
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

bool needs_repr(std::string_view s) {
  for (char c : s) {
    if (c == '\\' || c == '"' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' ||
        !std::isprint(static_cast<unsigned char>(c)) || is_space(c))
      return true;
  }
  return false;
}

bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  size_t p = 0;
  const size_t n = line.size();
  for (;;) {
    while (p < n && is_space(line[p])) ++p;
    if (p >= n) return true;
    bool in_dq = false, in_sq = false, done = false;
    std::string current;
    while (!done) {
      if (in_dq) {
        if (p >= n) return false;  // unterminated quotes
        if (line[p] == '\\' && p + 3 < n && line[p + 1] == 'x' && is_hex(line[p + 2]) && is_hex(line[p + 3])) {
          current += static_cast<char>(hex_value(line[p + 2]) * 16 + hex_value(line[p + 3]));
          p += 3;
        } else if (line[p] == '\\' && p + 1 < n) {
          ++p;
          char c;
          switch (line[p]) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: c = line[p]; break;
          }
          current += c;
        } else if (line[p] == '"') {
          // The closing quote must be followed by a space or the end.
          if (p + 1 < n && !is_space(line[p + 1])) return false;
          done = true;
        } else {
          current += line[p];
        }
      } else if (in_sq) {
        if (p >= n) return false;
        if (line[p] == '\\' && p + 1 < n && line[p + 1] == '\'') {
          ++p;
          current += '\'';
        } else if (line[p] == '\'') {
          if (p + 1 < n && !is_space(line[p + 1])) return false;
          done = true;
        } else {
          current += line[p];
        }
      } else {
        if (p >= n) {
          done = true;
          break;
        }
        switch (line[p]) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0': done = true; break;
          case '"': in_dq = true; break;
          case '\'': in_sq = true; break;
          default: current += line[p]; break;
        }
      }
      if (p < n) ++p;
    }
    out.push_back(std::move(current));
  }
}

std::string aof_manifest_name(std::string_view f) { return std::string(f) + ".manifest"; }
std::string aof_temp_manifest_name(std::string_view f) { return "temp-" + std::string(f) + ".manifest"; }
std::string aof_temp_incr_name(std::string_view f) { return "temp-" + std::string(f) + ".incr"; }
std::string aof_base_name(std::string_view f, int64_t seq, bool rdb_format) {
  return std::string(f) + "." + std::to_string(seq) + ".base" + (rdb_format ? ".rdb" : ".aof");
}
std::string aof_incr_name(std::string_view f, int64_t seq) {
  return std::string(f) + "." + std::to_string(seq) + ".incr.aof";
}

std::string AofManifest::to_string() const {
  std::string out;
  if (base) append_line(out, *base);
  for (const auto& h : history) append_line(out, h);
  for (const auto& i : incrs) append_line(out, i);
  return out;
}

const std::string& AofManifest::add_new_base(std::string_view appendfilename, bool rdb_format) {
  if (base) {
    base->type = AofFileType::kHistory;
    history.insert(history.begin(), std::move(*base));
  }
  ++curr_base_seq;
  base = AofFileInfo{aof_base_name(appendfilename, curr_base_seq, rdb_format), curr_base_seq, AofFileType::kBase};
  return base->name;
}

const std::string& AofManifest::add_new_incr(std::string_view appendfilename) {
  ++curr_incr_seq;
  incrs.push_back(AofFileInfo{aof_incr_name(appendfilename, curr_incr_seq), curr_incr_seq, AofFileType::kIncr});
  return incrs.back().name;
}

void AofManifest::mark_rewritten_incrs_as_history(bool keep_last) {
  if (incrs.empty()) return;
  const size_t n = keep_last ? incrs.size() - 1 : incrs.size();
  for (size_t i = 0; i < n; ++i) {
    incrs[i].type = AofFileType::kHistory;
    history.push_back(std::move(incrs[i]));
  }
  incrs.erase(incrs.begin(), incrs.begin() + static_cast<ptrdiff_t>(n));
}

std::vector<std::string> AofManifest::take_history() {
  std::vector<std::string> names;
  for (auto& h : history) names.push_back(std::move(h.name));
  history.clear();
  return names;
}

bool parse_aof_manifest(std::string_view text, AofManifest& out, std::string* error) {
  AofManifest am;
  auto fail = [error](const char* msg) {
    if (error) *error = msg;
    return false;
  };
  size_t pos = 0;
  size_t lines = 0;
  int64_t max_seq = 0;
  std::vector<std::string> argv;
  while (pos < text.size()) {
    // One fgets() of up to kManifestMaxLine bytes.
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    if (end - pos > kManifestMaxLine) end = pos + kManifestMaxLine;
    std::string_view buf = text.substr(pos, end - pos);
    pos = end;
    ++lines;
    if (buf[0] == '#') continue;  // comments
    if (buf.find('\n') == std::string_view::npos) return fail("The AOF manifest file contains too long line");
    std::string_view line = trim(buf, " \t\r\n");
    if (line.empty()) return fail("Invalid AOF manifest file format");
    if (!split_args(line, argv) || argv.size() < 6 || argv.size() % 2 != 0)
      return fail("Invalid AOF manifest file format");
    AofFileInfo info;
    bool have_name = false;
    char type = 0;
    for (size_t i = 0; i < argv.size(); i += 2) {
      if (iequals(argv[i], "file")) {
        info.name = argv[i + 1];
        have_name = true;
        if (info.name.find('/') != std::string::npos || info.name.find('\\') != std::string::npos)
          return fail("File can't be a path, just a filename");
      } else if (iequals(argv[i], "seq")) {
        info.seq = atoll_like(argv[i + 1]);
      } else if (iequals(argv[i], "type")) {
        type = argv[i + 1].empty() ? 0 : argv[i + 1][0];
      }
      // other keys: ignored, for forward compatibility (as Redis)
    }
    if (!have_name || info.name.empty() || info.seq == 0 || type == 0) return fail("Invalid AOF manifest file format");
    if (type == static_cast<char>(AofFileType::kBase)) {
      if (am.base) return fail("Found duplicate base file information");
      info.type = AofFileType::kBase;
      am.curr_base_seq = info.seq;
      am.base = std::move(info);
    } else if (type == static_cast<char>(AofFileType::kHistory)) {
      info.type = AofFileType::kHistory;
      am.history.push_back(std::move(info));
    } else if (type == static_cast<char>(AofFileType::kIncr)) {
      if (info.seq <= max_seq) return fail("Found a non-monotonic sequence number");
      info.type = AofFileType::kIncr;
      am.curr_incr_seq = info.seq;
      max_seq = info.seq;
      am.incrs.push_back(std::move(info));
    } else {
      return fail("Unknown AOF file type");
    }
  }
  if (lines == 0) return fail("Found an empty AOF manifest");
  out = std::move(am);
  return true;
}

ManifestLoad load_aof_manifest(const std::string& path, AofManifest& out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return ManifestLoad::kNotFound;
    if (error) *error = "Can't open the AOF manifest file " + path + ": " + std::strerror(errno);
    return ManifestLoad::kError;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (error) *error = "Read AOF manifest failed";
      ::close(fd);
      return ManifestLoad::kError;
    }
    if (r == 0) break;
    text.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return parse_aof_manifest(text, out, error) ? ManifestLoad::kOk : ManifestLoad::kError;
}

bool fsync_directory(const std::string& dir, std::string* error) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return false;
  }
  bool ok = ::fsync(fd) == 0 || errno == EINVAL || errno == EBADF;  // some file systems cannot sync directories
  if (!ok && error) *error = std::strerror(errno);
  ::close(fd);
  return ok;
}

bool write_aof_manifest(const std::string& dir, std::string_view name, const AofManifest& manifest,
                        std::string* error) {
  const std::string text = manifest.to_string();
  const std::string temp = dir + "/temp-" + std::string(name);
  const std::string final_path = dir + "/" + std::string(name);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = "Can't open the AOF manifest file temp-" + std::string(name) + ": " + std::strerror(errno);
    return false;
  }
  if (!write_all(fd, text.data(), text.size()) || ::fsync(fd) != 0) {
    if (error) *error = "Can't persist the AOF manifest file temp-" + std::string(name) + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  }
  ::close(fd);
  if (std::rename(temp.c_str(), final_path.c_str()) != 0) {
    if (error)
      *error = "Error trying to rename the temporary AOF manifest file temp-" + std::string(name) + " into " +
               std::string(name) + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  return fsync_directory(dir, error);
}

}  // namespace distcache::persistence
