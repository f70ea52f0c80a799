// Windows only: kura's paths and names are UTF-8 strings everywhere; the Win32 API wants
// UTF-16. These are the one conversion, at the platform boundary (docs/windows-port.md
// "Paths and names").
//
// NTFS names are any sequence of 16-bit units, unpaired surrogates included, so the
// narrow form is WTF-8: UTF-8 in which a lone surrogate is encoded like any other code
// point (3 bytes, ED A0..BF xx). Valid UTF-16 gives plain UTF-8, and every name
// round-trips exactly: NarrowName(WideName(x)) == x for every x NarrowName can return.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kura::win {

// UTF-16 to WTF-8. Never fails.
std::string NarrowName(std::wstring_view wide);

// WTF-8 to UTF-16; nullopt for bytes that are not WTF-8 (a truncated or overlong
// sequence, a code point above U+10FFFF, or a surrogate pair spelled as two 3-byte
// sequences, which NarrowName never makes).
std::optional<std::wstring> WideName(std::string_view narrow);

// A path for CreateFileW and friends: WideName() of `path` with '/' turned into '\',
// and absolute paths given the \\?\ prefix so they are not limited to MAX_PATH
// ("C:\x" -> "\\?\C:\x", "\\server\share\x" -> "\\?\UNC\server\share\x"). REQUIRES:
// `path` is normalised (no "." or ".." components: \\?\ turns off that processing).
std::optional<std::wstring> WidePath(std::string_view path);

}  // namespace kura::win
