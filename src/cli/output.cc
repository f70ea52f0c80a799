#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/i18n.h"
#include "util/text.h"

namespace kura::cli {

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

// Damage that kura verify cannot examine (it needs an open repository and agent state):
// the message says what to do instead, or the hint does.
static std::string CorruptionHint(const std::string& message) {
  if (message.find("kura verify") != std::string::npos) return "";  // the message says it
  for (std::string_view own : {"config", "鍵スロット", "key slot"}) {
    if (message.find(own) != std::string::npos) return "";  // it carries its own advice
  }
  for (std::string_view state : {"状態ファイル", "status file", "送信待ちファイル", "send queue file"}) {
    if (message.find(state) != std::string::npos) {
      return L(
          "そのファイルを別の名前に移すと、次回の実行で作り直します "
          "(記録されていた警告や送信待ちは失われるので、"
          "次回の実行後に kura status で確認してください)。",
          "Move that file aside: the next run writes a new one (the warnings or queued sends it held are "
          "lost; "
          "check kura status after the next run).");
    }
  }
  return L("kura verify --read-data で損傷の範囲を確認し、販売元へご連絡ください。",
           "Run kura verify --read-data to see what is damaged, and contact your vendor.");
}

static std::string Hint(Code code, const std::string& message) {
  switch (code) {
    case Code::kUnauthorized:
      return L("パスワード (KURA_PASSWORD_FILE / KURA_PASSWORD) または鍵ファイルを確認してください。",
               "Check the password (KURA_PASSWORD_FILE / KURA_PASSWORD) or the key file.");
    case Code::kLocked:
      return L("他の kura の処理が終わるのを待ってから再実行してください。",
               "Wait for the other kura process to finish, then run again.");
    case Code::kCorruption:
      return CorruptionHint(message);
    case Code::kInternal:
      return L("kura の不具合の可能性があります。販売元へご連絡ください。",
               "This may be a bug in kura; please contact your vendor.");
    default:
      return "";
  }
}

void PrintError(const Status& status) {
  // Messages quote names (paths, hosts) that may hold control characters: never raw.
  std::string line = Tr("kura: エラー: {}\n", "kura: error: {}\n", EscapeText(status.message()));
  std::fputs(line.c_str(), stderr);
  std::string hint = Hint(status.code(), status.message());
  if (!hint.empty()) std::fprintf(stderr, "kura: %s\n", hint.c_str());
}

void PrintWarning(const std::string& message) {
  std::string line = Tr("kura: 警告: {}\n", "kura: warning: {}\n", EscapeText(message));
  std::fputs(line.c_str(), stderr);
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
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

ProgressLine::ProgressLine(std::string verb, bool enabled)
    : verb_(std::move(verb)),
      enabled_(enabled && StderrIsTerminal()),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::Update(const Progress& progress) {
  if (!enabled_) return;
  Progress p = progress;
  if (p.bytes_total == 0) p.bytes_total = std::max(total_hint_, p.bytes_done);
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (drawn_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(p.bytes_done) / secs : 0;
  std::string line = fmt::format("{} {}", verb_, FormatBytes(p.bytes_done));
  if (p.bytes_total > 0) {
    line += fmt::format(" / {} ({:.0f}%)", FormatBytes(p.bytes_total),
                        100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total));
  }
  line += fmt::format("  {:.1f} MB/s", rate / 1e6);
  if (p.bytes_total > p.bytes_done && rate > 0) {
    line +=
        Tr("  残り {}", "  ETA {}", FormatDuration(static_cast<double>(p.bytes_total - p.bytes_done) / rate));
  }
  if (p.bytes_stored > 0) line += Tr("  新規 {}", "  new {}", FormatBytes(p.bytes_stored));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::Done() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

}  // namespace kura::cli
