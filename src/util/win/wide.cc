#include "util/win/wide.h"

#include <cstdint>

namespace kura::win {

std::string NarrowName(std::wstring_view wide) {
  std::string out;
  out.reserve(wide.size());
  for (size_t i = 0; i < wide.size(); ++i) {
    uint32_t c = static_cast<uint16_t>(wide[i]);
    // A high surrogate followed by a low one is one code point; any other surrogate
    // stands alone and is encoded as itself (WTF-8).
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < wide.size()) {
      uint32_t d = static_cast<uint16_t>(wide[i + 1]);
      if (d >= 0xDC00 && d <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
        ++i;
      }
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::optional<std::wstring> WideName(std::string_view narrow) {
  std::wstring out;
  out.reserve(narrow.size());
  bool last_was_high = false;  // a lone high surrogate just written
  for (size_t i = 0; i < narrow.size();) {
    const auto b0 = static_cast<uint8_t>(narrow[i]);
    int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > narrow.size()) return std::nullopt;
    uint32_t c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(narrow[i + k]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      c = (c << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[len] || c > 0x10FFFF) return std::nullopt;  // overlong or out of range
    i += len;
    if (c >= 0x10000) {
      c -= 0x10000;
      out += static_cast<wchar_t>(0xD800 + (c >> 10));
      out += static_cast<wchar_t>(0xDC00 + (c & 0x3FF));
      last_was_high = false;
      continue;
    }
    // A low surrogate right after a lone high one would read back as a pair, so
    // NarrowName never makes that sequence: refuse it to keep the round trip exact.
    if (c >= 0xDC00 && c <= 0xDFFF && last_was_high) return std::nullopt;
    last_was_high = c >= 0xD800 && c <= 0xDBFF;
    out += static_cast<wchar_t>(c);
  }
  return out;
}

std::optional<std::wstring> WidePath(std::string_view path) {
  auto wide = WideName(path);
  if (!wide) return std::nullopt;
  for (auto& ch : *wide) {
    if (ch == L'/') ch = L'\\';
  }
  const std::wstring& w = *wide;
  if (w.rfind(L"\\\\?\\", 0) == 0) return wide;  // already a verbatim path
  if (w.size() >= 3 && w[1] == L':' && w[2] == L'\\') return L"\\\\?\\" + w;
  if (w.rfind(L"\\\\", 0) == 0) return L"\\\\?\\UNC\\" + w.substr(2);
  return wide;
}

}  // namespace kura::win
