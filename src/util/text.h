// Text that comes from outside kura — file names, symlink targets, tags, messages that
// quote them — is bytes, not necessarily UTF-8 (Shift_JIS/CP932 and EUC-JP names from
// Windows copies and archives are everyday on site machines). These helpers let kura
// check, show and store such bytes without losing any and without letting them drive a
// terminal (ESC, CR, ... are never printed raw).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kura {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF). The empty string is valid.
bool IsValidUtf8(std::string_view s);

// A printable, lossless form of a name for people (`kura ls`, warnings, restore reports):
// valid UTF-8 other than control characters is kept as it is (Japanese stays readable);
// each byte of a control character (C0, DEL, C1), of an invisible bidirectional control
// (U+200E/F, U+202A..E, U+2066..9) and of an invalid UTF-8 sequence becomes `\xNN`
// (uppercase hex), and a backslash becomes `\\`. The result is valid UTF-8 without control
// characters; UnescapeName() reverses it exactly.
std::string EscapeName(std::string_view name);
// Reverses EscapeName(). nullopt when `escaped` is not something EscapeName() makes
// (a lone backslash, a bad escape).
std::optional<std::string> UnescapeName(std::string_view escaped);

// The same for a message that may quote names: control characters, bidirectional
// controls and invalid bytes become `\xNN`; backslashes are kept (messages quote Windows
// paths); newline and tab are kept when keep_newlines. Not reversible; for display and
// for text stored in kura's JSON state files, which must be valid UTF-8.
std::string EscapeText(std::string_view text, bool keep_newlines = true);

// Standard base64 with padding (RFC 4648 §4).
std::string Base64Encode(std::string_view bytes);
// nullopt on a character outside the alphabet, wrong padding or a length not a multiple of 4.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kura
