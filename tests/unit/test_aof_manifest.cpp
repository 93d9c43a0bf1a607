// Redis 7.0's AOF manifest (persistence/aof_manifest.h). Expected texts and
// error messages were checked against redis-server 7.0.15 (its manifests,
// and its start-up errors for the malformed ones below).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "persistence/aof_manifest.h"
#include "protocol/repr.h"

using namespace distcache::persistence;

namespace {

std::string parse_error(std::string_view text) {
  AofManifest m;
  std::string error;
  if (parse_aof_manifest(text, m, &error)) return "ok";
  return error;
}

std::filesystem::path temp_dir(const char* tag) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("distcache-aofm-") + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("AOF manifest: the format redis-server 7.0 writes", "[aof]") {
  AofManifest m;
  REQUIRE(parse_aof_manifest("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
                             m, nullptr));
  REQUIRE(m.base);
  CHECK(m.base->name == "appendonly.aof.1.base.rdb");
  CHECK(m.base->seq == 1);
  CHECK(m.base->type == AofFileType::kBase);
  REQUIRE(m.incrs.size() == 1);
  CHECK(m.incrs[0].name == "appendonly.aof.1.incr.aof");
  CHECK(m.curr_base_seq == 1);
  CHECK(m.curr_incr_seq == 1);
  CHECK(m.to_string() == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
}

TEST_CASE("AOF manifest: order is base, history, incr; keys in any order and case", "[aof]") {
  AofManifest m;
  REQUIRE(parse_aof_manifest("# a comment\n"
                             "file a.2.incr.aof seq 2 type i\n"
                             "type h seq 1 file a.1.base.rdb\n"
                             "FILE a.3.incr.aof SEQ 3 TYPE i future-key value\n"
                             "file a.2.base.aof seq 2 type b\n",
                             m, nullptr));
  CHECK(m.to_string() ==
        "file a.2.base.aof seq 2 type b\nfile a.1.base.rdb seq 1 type h\nfile a.2.incr.aof seq 2 type i\n"
        "file a.3.incr.aof seq 3 type i\n");
  CHECK(m.curr_incr_seq == 3);
  CHECK(m.curr_base_seq == 2);
}

TEST_CASE("AOF manifest: names with spaces and special bytes are quoted as sdscatrepr", "[aof]") {
  AofManifest m;
  m.base = AofFileInfo{"my file.1.base.rdb", 1, AofFileType::kBase};
  m.incrs.push_back(AofFileInfo{"q\"\n\x01.1.incr.aof", 1, AofFileType::kIncr});
  const std::string text = m.to_string();
  CHECK(text == "file \"my file.1.base.rdb\" seq 1 type b\nfile \"q\\\"\\n\\x01.1.incr.aof\" seq 1 type i\n");
  AofManifest back;
  REQUIRE(parse_aof_manifest(text, back, nullptr));
  CHECK(back.base->name == "my file.1.base.rdb");
  CHECK(back.incrs[0].name == "q\"\n\x01.1.incr.aof");
  CHECK(distcache::protocol::repr("a\\b") == "\"a\\\\b\"");
  CHECK(needs_repr("a b"));
  CHECK_FALSE(needs_repr("appendonly.aof.1.base.rdb"));
}

TEST_CASE("AOF manifest: sdssplitargs rules", "[aof]") {
  std::vector<std::string> out;
  REQUIRE(split_args("  a 'b c' \"d\\x41\\n\" ''", out));
  REQUIRE(out.size() == 4);
  CHECK(out[1] == "b c");
  CHECK(out[2] == "dA\n");
  CHECK(out[3].empty());
  REQUIRE(split_args("x'y z'w", out) == false);  // closing quote must end the token
  REQUIRE(split_args("\"open", out) == false);
  REQUIRE(split_args("'it\\'s'", out));
  CHECK(out[0] == "it's");
}

TEST_CASE("AOF manifest: Redis's errors", "[aof]") {
  CHECK(parse_error("") == "Found an empty AOF manifest");
  CHECK(parse_error("file a seq 1 type b") == "The AOF manifest file contains too long line");  // no newline
  CHECK(parse_error(std::string(1100, 'x') + "\n") == "The AOF manifest file contains too long line");
  CHECK(parse_error("   \n") == "Invalid AOF manifest file format");
  CHECK(parse_error("file a seq 1\n") == "Invalid AOF manifest file format");
  CHECK(parse_error("file a seq 1 type\n") == "Invalid AOF manifest file format");
  CHECK(parse_error("file a seq 0 type b\n") == "Invalid AOF manifest file format");
  CHECK(parse_error("file a/b seq 1 type b\n") == "File can't be a path, just a filename");
  CHECK(parse_error("file a seq 1 type b\nfile b seq 2 type b\n") == "Found duplicate base file information");
  CHECK(parse_error("file a seq 2 type i\nfile b seq 2 type i\n") == "Found a non-monotonic sequence number");
  CHECK(parse_error("file a seq 1 type x\n") == "Unknown AOF file type");
  CHECK(parse_error("file \"a seq 1 type b\n") == "Invalid AOF manifest file format");
  CHECK(parse_error("# only a comment\n") == "ok");
}

TEST_CASE("AOF manifest: rewrite bookkeeping as Redis", "[aof]") {
  AofManifest m;
  CHECK(m.add_new_base("appendonly.aof", true) == "appendonly.aof.1.base.rdb");
  CHECK(m.add_new_incr("appendonly.aof") == "appendonly.aof.1.incr.aof");
  // A rewrite while the AOF is on: a new incr file at once, then the new base.
  CHECK(m.add_new_incr("appendonly.aof") == "appendonly.aof.2.incr.aof");
  CHECK(m.add_new_base("appendonly.aof", false) == "appendonly.aof.2.base.aof");
  m.mark_rewritten_incrs_as_history(/*keep_last=*/true);
  CHECK(m.to_string() ==
        "file appendonly.aof.2.base.aof seq 2 type b\n"
        "file appendonly.aof.1.base.rdb seq 1 type h\n"
        "file appendonly.aof.1.incr.aof seq 1 type h\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n");
  auto gone = m.take_history();
  CHECK(gone == std::vector<std::string>{"appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"});
  CHECK(m.to_string() == "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n");
  // A rewrite while the AOF is off: every incr file goes.
  m.add_new_base("appendonly.aof", true);
  m.mark_rewritten_incrs_as_history(false);
  m.take_history();
  CHECK(m.to_string() == "file appendonly.aof.3.base.rdb seq 3 type b\n");
  CHECK(aof_temp_incr_name("appendonly.aof") == "temp-appendonly.aof.incr");
  CHECK(aof_manifest_name("x.aof") == "x.aof.manifest");
}

TEST_CASE("AOF manifest: atomic write and load", "[aof]") {
  auto dir = temp_dir("rw");
  AofManifest m;
  m.add_new_base("appendonly.aof", true);
  m.add_new_incr("appendonly.aof");
  std::string error;
  REQUIRE(write_aof_manifest(dir.string(), "appendonly.aof.manifest", m, &error));
  CHECK_FALSE(std::filesystem::exists(dir / "temp-appendonly.aof.manifest"));
  AofManifest back;
  REQUIRE(load_aof_manifest((dir / "appendonly.aof.manifest").string(), back, &error) == ManifestLoad::kOk);
  CHECK(back == m);
  CHECK(load_aof_manifest((dir / "nope").string(), back, &error) == ManifestLoad::kNotFound);
  {
    std::ofstream bad(dir / "bad.manifest");
    bad << "file a seq 1 type z\n";
  }
  CHECK(load_aof_manifest((dir / "bad.manifest").string(), back, &error) == ManifestLoad::kError);
  CHECK(error == "Unknown AOF file type");
  std::filesystem::remove_all(dir);
}
