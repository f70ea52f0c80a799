#include "agent/hooks.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "util/clock.h"
#include "util/i18n.h"
#include "util/process.h"

namespace kura {

std::vector<std::pair<std::string, std::string>> HookParameters(const HookEvent& e) {
  auto utc = [](int64_t t) { return t == 0 ? std::string() : FormatUtc(t); };
  auto local = [](int64_t t) { return t == 0 ? std::string() : FormatLocal(t); };
  std::string message = CurrentLanguage() == Language::kEnglish ? e.message_en : e.message_ja;
  return {{"event", e.event},
          {"job", e.job},
          {"job_label", e.job_label},
          {"target", e.target},
          {"target_label", e.target_label},
          {"kind", e.kind},
          {"action", e.action},
          {"result", e.result},
          {"error", e.error},
          {"error_code", e.error_code},
          {"snapshot", e.snapshot},
          {"since", utc(e.since)},
          {"since_local", local(e.since)},
          {"time", utc(e.time)},
          {"time_local", local(e.time)},
          {"message", message},
          {"message_ja", e.message_ja},
          {"message_en", e.message_en},
          {"guidance", e.guidance_ja},
          {"host", e.host}};
}

Result<BoundStatement> BindNamedParameters(const std::string& s, PlaceholderStyle style,
                                           const std::vector<std::pair<std::string, std::string>>& params) {
  BoundStatement out;
  std::vector<std::string> numbered;  // names in $n order (kDollar)
  size_t i = 0;
  auto copy_until = [&](size_t end) {
    out.sql.append(s, i, end - i);
    i = end;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"' || c == '`') {
      // A quoted literal or identifier; a doubled quote inside is just two toggles.
      size_t end = s.find(c, i + 1);
      copy_until(end == std::string::npos ? s.size() : end + 1);
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t end = s.find('\n', i);
      copy_until(end == std::string::npos ? s.size() : end);
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      copy_until(end == std::string::npos ? s.size() : end + 2);
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      copy_until(i + 2);
    } else if (c == ':' && i + 1 < s.size() &&
               (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '_')) {
      size_t end = i + 1;
      while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
      std::string name = s.substr(i + 1, end - i - 1);
      auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
      if (it == params.end()) {
        std::string names;
        for (const auto& p : params) names += (names.empty() ? ":" : ", :") + p.first;
        return Status::InvalidArgument(
            Tr("SQL フックの文に不明なパラメータ :{} があります。使えるのは {} です",
               "the SQL hook statement has an unknown parameter :{}; available: {}", name, names));
      }
      if (style == PlaceholderStyle::kDollar) {
        auto n = std::find(numbered.begin(), numbered.end(), name);
        if (n == numbered.end()) {
          numbered.push_back(name);
          out.values.push_back(it->second);
          n = numbered.end() - 1;
        }
        out.sql += "$" + std::to_string(n - numbered.begin() + 1);
      } else {
        out.sql += "?";
        out.values.push_back(it->second);
      }
      i = end;
    } else {
      out.sql += c;
      ++i;
    }
  }
  return out;
}

namespace {

// Runs the command, killing it (and what it started) after `timeout_seconds`.
Status RunHookCommand(const HookAction& action, const HookEvent& event) {
  ProcessOptions o;
  o.argv = action.command;
  o.pipe_stdout = false;
  for (const auto& [name, value] : HookParameters(event)) {
    std::string upper = "KURA_" + name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    o.env.emplace_back(upper, value);
  }
  KURA_ASSIGN_OR_RETURN(auto proc, Process::Start(o));
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false, timed_out = false;
  // Kill() is safe against the Wait() below on this thread: a reaped child is never
  // signalled, so a late watchdog cannot hit a process group the system has reused.
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(action.timeout_seconds), [&] { return finished; })) {
      timed_out = true;
      proc->Kill();
    }
  });
  auto rc = proc->Wait();
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  cv.notify_all();
  watchdog.join();
  std::string program = action.command.front();
  if (!rc.ok()) return rc.status();
  if (timed_out) {
    return Status::Cancelled(Tr("フックのコマンド {} が {} 秒で終わらなかったため止めました",
                                "hook command {} did not finish within {} s and was stopped", program,
                                action.timeout_seconds));
  }
  if (*rc != 0) {
    return Status::IOError(Tr("フックのコマンド {} が終了コード {} で失敗しました: {}",
                              "hook command {} failed with exit code {}: {}", program, *rc,
                              proc->StderrTail()));
  }
  return Status::Ok();
}

}  // namespace

Status RunHook(const HookAction& action, const HookEvent& event) {
  Status first;
  if (!action.command.empty()) first = RunHookCommand(action, event);
  if (action.sql) {
    Status st = RunSqlHook(*action.sql, HookParameters(event));
    if (first.ok()) first = st;
  }
  return first;
}

}  // namespace kura
