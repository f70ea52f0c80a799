// Output helpers both binaries share (kura and kura-vault): sizes and durations for people,
// column padding that counts display cells, lossless names in JSON, and JSON documents on
// stdout. No command, no binary's wording: that stays in cli/ and vault_cli/.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kura::cli_common {

// "1.2 GiB"
std::string FormatBytes(uint64_t bytes);
// "0:12", "1:02:03"
std::string FormatDuration(double seconds);

// Columns on a terminal: a CJK character takes two cells, so padding counts cells, not
// bytes or code points. Pads (or right-aligns) `text` to `width` cells.
size_t DisplayWidth(std::string_view text);
std::string PadRight(std::string_view text, size_t width);
std::string PadLeft(std::string_view text, size_t width);

// Sets j[key] to a name that may not be UTF-8, losslessly: valid UTF-8 as it is; else the
// escaped form (util/text.h EscapeName) in `key` and the exact bytes, base64, in
// `key`_b64 — the same rule as the snapshot metadata (docs/format.md).
void PutNameJson(nlohmann::json& j, const std::string& key, const std::string& name);
// The same for a list: `key` the printable forms; `key`_b64 every item in base64 when any
// item is not UTF-8.
void PutNameListJson(nlohmann::json& j, const std::string& key, const std::vector<std::string>& names);

// The document, indented, and a newline on stdout (invalid UTF-8 replaced, never thrown).
void PrintJson(const nlohmann::json& doc);

bool StderrIsTerminal();

}  // namespace kura::cli_common
