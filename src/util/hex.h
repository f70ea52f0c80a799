#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace kura {

// Lowercase hexadecimal.
std::string ToHex(ByteView bytes);
// Accepts upper- or lowercase; nullopt on odd length or a non-hex character.
std::optional<Bytes> FromHex(std::string_view hex);
// True when `s` is exactly `digits` lowercase hex digits: the form of kura's IDs and
// object names (ToHex's output), refused otherwise before it names a file or a row.
bool IsLowerHex(std::string_view s, size_t digits);

}  // namespace kura
