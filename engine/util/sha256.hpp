// SHA-256 (FIPS 180-4), for the content hash of each loaded policy file
// (`bulwark status`). Written out because the static binary links no
// crypto library; checked against the NIST test vectors (unit tests).
#pragma once

#include <string>
#include <string_view>

namespace bulwark {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace bulwark
