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

}  // namespace kura
