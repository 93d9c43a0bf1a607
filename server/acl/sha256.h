#pragma once
// SHA-256 (FIPS 180-4), used for ACL password hashes. Written here because the
// project links no crypto library.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace distcache::server::acl {

std::array<uint8_t, 32> sha256(std::string_view data);
// Lower-case hex of the digest (64 characters), as ACL GETUSER shows it.
std::string sha256_hex(std::string_view data);

}  // namespace distcache::server::acl
