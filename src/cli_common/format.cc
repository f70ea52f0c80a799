#include "cli_common/format.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "util/text.h"

namespace kura::cli_common {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string FormatDuration(double seconds) {
  long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

bool StderrIsTerminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = c;
    if (len == 2) cp = c & 0x1F;
    if (len == 3) cp = c & 0x0F;
    if (len == 4) cp = c & 0x07;
    for (size_t k = 1; k < len && i + k < text.size(); ++k) cp = (cp << 6) | (text[i + k] & 0x3F);
    // East Asian wide and fullwidth ranges (CJK, kana, Hangul, fullwidth forms).
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

std::string PadRight(std::string_view text, size_t width) {
  size_t w = DisplayWidth(text);
  return std::string(text) + std::string(w < width ? width - w : 0, ' ');
}

std::string PadLeft(std::string_view text, size_t width) {
  size_t w = DisplayWidth(text);
  return std::string(w < width ? width - w : 0, ' ') + std::string(text);
}

void PutNameJson(nlohmann::json& j, const std::string& key, const std::string& name) {
  if (IsValidUtf8(name)) {
    j[key] = name;
    return;
  }
  j[key] = EscapeName(name);
  j[key + "_b64"] = Base64Encode(name);
}

void PutNameListJson(nlohmann::json& j, const std::string& key, const std::vector<std::string>& names) {
  nlohmann::json shown = nlohmann::json::array(), raw = nlohmann::json::array();
  bool all_text = true;
  for (const std::string& n : names) {
    all_text = all_text && IsValidUtf8(n);
    shown.push_back(IsValidUtf8(n) ? n : EscapeName(n));
    raw.push_back(Base64Encode(n));
  }
  j[key] = std::move(shown);
  if (!all_text) j[key + "_b64"] = std::move(raw);
}

void PrintJson(const nlohmann::json& doc) {
  std::string s = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
}

}  // namespace kura::cli_common
