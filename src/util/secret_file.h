// Password files and key files as people write them: with Notepad (a UTF-8 byte order mark,
// CRLF line ends), with `echo` (a trailing LF), and sometimes readable by everyone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kura/status.h"

namespace kura {

// Minimum length of a new password, in characters (UTF-8 code points, not bytes: three
// kana are three characters).
inline constexpr size_t kMinPasswordChars = 8;

// The password in a password file: one leading UTF-8 byte order mark (EF BB BF) and every
// trailing CR and LF are removed; nothing else (spaces are part of a password). `had_bom`
// (optional) tells whether a mark was removed: kura before issue 6 kept it as part of the
// password, so a key slot made then opens only with it (Credentials::password_with_bom).
// Errors: those of reading the file, kInvalidArgument when nothing is left.
Result<std::string> ReadPasswordFile(const std::string& path, bool* had_bom = nullptr);

// Removes one leading UTF-8 byte order mark. Returns whether there was one.
bool StripUtf8Bom(std::string& text);

// Characters (UTF-8 code points) in `text`; a byte that is not valid UTF-8 counts as one.
size_t Utf8Length(std::string_view text);

// kInvalidArgument when `password` has fewer than kMinPasswordChars characters.
Status CheckNewPassword(std::string_view password);

// True when the group or other users may read the file at `path` (mode & 0077); false when
// it is private or cannot be examined.
bool ReadableByOthers(const std::string& path);

// Writes "kura: warning: <what> <path> is readable by other users; chmod 600 it" to
// stderr when ReadableByOthers(path). `what` names the kind of file (password file, key
// file). The same warning for every secret file kura reads.
void WarnIfReadableByOthers(const std::string& path, std::string_view what_ja, std::string_view what_en);

}  // namespace kura
