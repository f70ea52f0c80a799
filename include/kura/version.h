#pragma once

namespace kura {
inline constexpr const char* kKuraVersion = "0.1.0";
}  // namespace kura
