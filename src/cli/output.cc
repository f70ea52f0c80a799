#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli_common/program.h"
#include "util/i18n.h"
#include "util/text.h"

namespace kura::cli {

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

// The advice a lower layer named (include/kura/status.h), as kura's own command.
static std::string AdviceText(Advice advice) {
  switch (advice) {
    case Advice::kNone:
      return "";
    case Advice::kCheckRepository:
      return L("kura verify --read-data でリポジトリを検査してください。",
               "Check the repository with kura verify --read-data.");
    case Advice::kCreateRepository:
      return L("新しいリポジトリを作る場合は kura init を実行してください。",
               "To create a new repository, run kura init.");
    case Advice::kListSnapshots:
      return L("kura snapshots で一覧を確認してください。", "See the list with kura snapshots.");
    case Advice::kListPaths:
      return L("kura ls でパスを確認してください。", "Check the paths with kura ls.");
    case Advice::kPrune:
      return L("残ったデータは kura prune で片付けられます。", "kura prune removes what was left.");
  }
  return "";
}

void PrintError(const Status& status) {
  // Messages quote names (paths, hosts) that may hold control characters: never raw.
  cli_common::PrintErrorLine("kura", status.message());
  std::string hint =
      status.advice() != Advice::kNone ? AdviceText(status.advice()) : Hint(status.code(), status.message());
  if (!hint.empty()) std::fprintf(stderr, "kura: %s\n", hint.c_str());
}

void PrintWarning(const std::string& message) {
  cli_common::PrintWarningLine("kura", message);
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
