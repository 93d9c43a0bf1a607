#pragma once
// Redis's glob-style pattern matching (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE):
// '*', '?', '[abc]', '[^a]', '[a-z]', '\x' escapes; binary safe.
#include <string_view>

namespace distcache::storage {

bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace distcache::storage
