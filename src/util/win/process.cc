// Windows implementation of util/process.h (docs/windows-port.md §4). No shell here either:
// CreateProcessW gets one command line quoted by the rules the child's C runtime uses to
// split it back into argv (CommandLineToArgvW's), and never runs through cmd.exe — so only
// .exe and .com programs are run, never .bat or .cmd (cmd.exe would re-parse their
// arguments). Each child runs in its own job object that is killed when kura's handle to it
// closes, so ending kura (or Kill()) ends what the child started too; the child also leads
// a new console process group, so SIGINT/SIGTERM reach it as CTRL_BREAK. Only the three
// standard handles are inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), whatever else kura
// has open.
#include "util/process.h"

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/win/error.h"
#include "util/win/wide.h"

namespace kura {

namespace {

// SIGKILL's number (the CRT has none): Kill() and util/win/signals.cc's last resort.
constexpr int kForceStop = 9;

// How long the stderr collector keeps reading after the child has exited when the pipe
// stays open (a grandchild that inherited stderr). Bounded so Wait() cannot hang on it.
constexpr int kStderrIdleAfterExitMs = 100;

std::string PathFromEnv(const ProcessOptions& options) {
  for (const auto& [key, value] : options.env) {
    if (_stricmp(key.c_str(), "PATH") == 0) return value;
  }
  const char* path = std::getenv("PATH");
  return path != nullptr ? path : "";
}

bool IsRegularFile(const std::string& path) {
  auto wide = win::WidePath(path);
  if (!wide) return false;
  DWORD attrs = ::GetFileAttributesW(wide->c_str());
  return attrs != INVALID_FILE_ATTRIBUTES && !(attrs & FILE_ATTRIBUTE_DIRECTORY);
}

bool HasRunnableExtension(const std::string& name) {
  auto dot = name.find_last_of('.');
  if (dot == std::string::npos || name.find_first_of("/\\", dot) != std::string::npos) return false;
  std::string ext = name.substr(dot);
  return _stricmp(ext.c_str(), ".exe") == 0 || _stricmp(ext.c_str(), ".com") == 0;
}

// The program to run: `program` itself when it names a path, else the first PATH entry
// (';'-separated) holding it, trying ".exe" and ".com" when it has no such extension.
std::string FindInSearchPath(const std::string& program, const std::string& search_path) {
  if (program.empty()) return "";
  std::vector<std::string> names;
  if (HasRunnableExtension(program)) {
    names.push_back(program);
  } else {
    names.push_back(program + ".exe");
    names.push_back(program + ".com");
  }
  if (program.find_first_of("/\\:") != std::string::npos) {
    for (const auto& n : names) {
      if (IsRegularFile(n)) return n;
    }
    return "";
  }
  size_t start = 0;
  while (start <= search_path.size()) {
    size_t end = search_path.find(';', start);
    if (end == std::string::npos) end = search_path.size();
    std::string dir = search_path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;  // unlike POSIX, an empty entry is not the current directory
    for (const auto& n : names) {
      std::string candidate = dir;
      if (candidate.back() != '\\' && candidate.back() != '/') candidate.append("\\");
      candidate.append(n);
      if (IsRegularFile(candidate)) return candidate;
    }
  }
  return "";
}

Status MissingProgram(const std::string& program) {
  return Status::NotFound(
      Tr("プログラム {} が見つかりません。{} をインストールするか、PATH を確認してください",
         "program {} not found. Install {} or check PATH", program, program));
}

std::vector<std::string> ParentEnvironment() {
  std::vector<std::string> out;
  wchar_t* block = ::GetEnvironmentStringsW();
  if (block == nullptr) return out;
  for (const wchar_t* e = block; *e != L'\0'; e += std::wcslen(e) + 1) out.push_back(win::NarrowName(e));
  ::FreeEnvironmentStringsW(block);
  return out;
}

// One argument quoted so that the child's argv splitting gives it back exactly: quotes
// are escaped with a backslash, and backslashes are doubled only where they precede a
// quote (the rule CommandLineToArgvW and the MSVC and MinGW runtimes follow).
void AppendQuoted(std::wstring& line, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line += L'"';
  for (size_t i = 0;; ++i) {
    size_t backslashes = 0;
    while (i < arg.size() && arg[i] == L'\\') {
      ++i;
      ++backslashes;
    }
    if (i == arg.size()) {
      line.append(backslashes * 2, L'\\');  // the closing quote follows
      break;
    }
    if (arg[i] == L'"') {
      line.append(backslashes * 2 + 1, L'\\');
    } else {
      line.append(backslashes, L'\\');
    }
    line += arg[i];
  }
  line += L'"';
}

class OwnedHandle {
 public:
  OwnedHandle() = default;
  explicit OwnedHandle(HANDLE h) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
  ~OwnedHandle() { reset(); }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;
  HANDLE get() const { return h_; }
  HANDLE release() {
    HANDLE h = h_;
    h_ = nullptr;
    return h;
  }
  void reset(HANDLE h = nullptr) {
    if (h_ != nullptr) ::CloseHandle(h_);
    h_ = h;
  }

 private:
  HANDLE h_ = nullptr;
};

// Writes to the child's stdin; a child that has gone away gives ERROR_NO_DATA or
// ERROR_BROKEN_PIPE (Windows has no SIGPIPE), reported like the POSIX EPIPE.
class PipeWriter : public ByteWriter {
 public:
  explicit PipeWriter(std::string name) : name_(std::move(name)) {}
  ~PipeWriter() override { Close(); }
  void Reset(HANDLE h) { h_.reset(h); }
  void Close() { h_.reset(); }

  Status Write(const uint8_t* buf, size_t n) override {
    if (h_.get() == nullptr) {
      return Status::IOError(
          Tr("{} の標準入力は既に閉じられています", "stdin of {} is already closed", name_));
    }
    size_t off = 0;
    while (off < n) {
      DWORD k = 0;
      if (!::WriteFile(h_.get(), buf + off, static_cast<DWORD>(std::min<size_t>(n - off, 1u << 30)), &k,
                       nullptr)) {
        DWORD err = ::GetLastError();
        if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE) {
          return Status::IOError(Tr("{} が入力を読み終える前に終了しました",
                                    "{} exited before reading all of its input", name_));
        }
        return win::LastErrorStatus(err, L("書き込み", "write"), name_);
      }
      off += k;
    }
    return Status::Ok();
  }

 private:
  OwnedHandle h_;
  std::string name_;
};

class WinProcess;

// Every child not yet waited for, so that kura can ask them all to stop when it is asked to.
struct LiveChildren {
  std::mutex mu;
  std::vector<std::pair<uint64_t, WinProcess*>> list;  // guarded by mu
  uint64_t started = 0;                                // guarded by mu
};
LiveChildren& Live() {
  static LiveChildren* live = new LiveChildren();  // never destroyed: used until exit
  return *live;
}

class WinProcess : public Process {
 public:
  WinProcess(HANDLE process, HANDLE job, DWORD pid, const std::string& name, HANDLE stdin_h, int stdout_fd,
             HANDLE stderr_h, size_t tail_bytes)
      : process_(process),
        job_(job),
        pid_(pid),
        name_(name),
        stdout_(stdout_fd, /*owns=*/true, name + " (stdout)"),
        stdin_(name + " (stdin)"),
        tail_max_(tail_bytes) {
    stdin_.Reset(stdin_h);
    stderr_thread_ = std::thread([this, stderr_h] { CollectStderr(stderr_h); });
    LiveChildren& live = Live();
    std::lock_guard lock(live.mu);
    live.list.emplace_back(++live.started, this);
  }

  ~WinProcess() override {
    if (!waited_) {
      Kill();
      (void)Wait();
    }
    Unregister();
  }

  ByteReader& Stdout() override { return stdout_; }
  ByteWriter& Stdin() override { return stdin_; }
  void CloseStdin() override { stdin_.Close(); }

  Result<int> Wait() override {
    if (waited_) return exit_code_;
    CloseStdin();  // a child reading stdin to EOF would otherwise never exit
    DWORD rc = ::WaitForSingleObject(process_.get(), INFINITE);
    DWORD code = 0;
    bool got = rc == WAIT_OBJECT_0 && ::GetExitCodeProcess(process_.get(), &code);
    DWORD err = got ? 0 : ::GetLastError();
    {
      std::lock_guard lock(reap_mu_);
      reaped_ = true;
    }
    Unregister();
    exited_.store(true);
    if (stderr_thread_.joinable()) stderr_thread_.join();
    waited_ = true;
    if (!got) {
      exit_code_ = -1;
      return win::LastErrorStatus(err, L("終了の待機", "waiting for exit"), name_);
    }
    // Kill() ends the job with 128 + 9, so a killed child reads as on Linux (137).
    exit_code_ = static_cast<int>(code);
    return exit_code_;
  }

  void Kill() override { Signal(kForceStop); }

  void Signal(int signal) override {
    std::lock_guard lock(reap_mu_);
    if (reaped_ || signal == 0) return;
    if (signal == kForceStop) {
      ::TerminateJobObject(job_.get(), 128 + kForceStop);
    } else {
      // SIGINT and SIGTERM: Ctrl-Break to the child's process group (it shares kura's
      // console when there is one; without a console this does nothing and the caller's
      // grace period ends in Kill()).
      ::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid_);
    }
  }

  int pid() const override { return static_cast<int>(pid_); }

  std::string StderrTail() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return tail_;
  }

 private:
  // Anonymous pipes cannot be waited on with a timeout, so the collector peeks: it reads
  // what is there, and after the child's exit gives up once the pipe has been idle for
  // kStderrIdleAfterExitMs (a grandchild may hold it open).
  void CollectStderr(HANDLE h) {
    char buf[4096];
    int idle_after_exit_ms = 0;
    for (;;) {
      DWORD avail = 0;
      if (!::PeekNamedPipe(h, nullptr, 0, nullptr, &avail, nullptr)) break;  // closed: EOF
      if (avail == 0) {
        if (exited_.load()) {
          if (idle_after_exit_ms >= kStderrIdleAfterExitMs) break;
          idle_after_exit_ms += 10;
        }
        ::Sleep(10);
        continue;
      }
      idle_after_exit_ms = 0;
      DWORD n = 0;
      if (!::ReadFile(h, buf, std::min<DWORD>(avail, sizeof buf), &n, nullptr) || n == 0) break;
      AppendTail(buf, n);
    }
    ::CloseHandle(h);
  }

  void Unregister() {
    LiveChildren& live = Live();
    std::lock_guard lock(live.mu);
    std::erase_if(live.list, [this](const auto& entry) { return entry.second == this; });
  }

  void AppendTail(const char* data, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    tail_.append(data, n);
    if (tail_.size() > tail_max_) {
      size_t cut = tail_.size() - tail_max_;
      // Do not start the tail in the middle of a UTF-8 sequence (Japanese messages).
      while (cut < tail_.size() && (static_cast<unsigned char>(tail_[cut]) & 0xC0) == 0x80) ++cut;
      tail_.erase(0, cut);
    }
  }

  OwnedHandle process_;
  OwnedHandle job_;  // closing it kills what is left of the child's tree
  DWORD pid_;
  std::string name_;
  FdReader stdout_;
  PipeWriter stdin_;
  size_t tail_max_;
  std::thread stderr_thread_;
  std::atomic<bool> exited_{false};
  bool waited_ = false;  // only the waiting thread reads and writes it
  std::mutex reap_mu_;   // held while marking the child waited for and while signalling
  bool reaped_ = false;  // guarded by reap_mu_
  int exit_code_ = -1;
  mutable std::mutex mu_;
  std::string tail_;  // guarded by mu_
};

// A pipe whose child end is inheritable and whose parent end is not.
bool MakePipe(OwnedHandle& read_end, OwnedHandle& write_end, bool child_reads) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  HANDLE r = nullptr, w = nullptr;
  if (!::CreatePipe(&r, &w, &sa, 0)) return false;
  read_end.reset(r);
  write_end.reset(w);
  return ::SetHandleInformation(child_reads ? w : r, HANDLE_FLAG_INHERIT, 0) != 0;
}

HANDLE OpenNul(bool write) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  return ::CreateFileW(L"NUL", write ? GENERIC_WRITE : GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                       OPEN_EXISTING, 0, nullptr);
}

}  // namespace

bool IsKuraSecretVariable(std::string_view name) {
  if (!name.starts_with("KURA_")) return false;
  if (name.ends_with("_FILE")) return false;  // a path (KURA_PASSWORD_FILE), not the secret
  for (std::string_view word : {"PASSWORD", "SECRET", "TOKEN", "PASSPHRASE", "PASSWD"}) {
    if (name.find(word) != std::string_view::npos) return true;
  }
  return false;
}

std::vector<std::string> BuildChildEnvironment(const ProcessOptions& options,
                                               const std::vector<std::string>& parent) {
  // Windows variable names are case-insensitive: "Path" and "PATH" are one variable.
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && _strnicmp(a.data(), b.data(), a.size()) == 0;
  };
  auto removed = [&](std::string_view entry) {
    // "=C:=C:\dir" entries (each drive's current directory) have an empty name: kept.
    std::string_view key = entry.substr(0, entry.find('=', 1));
    std::string upper(key);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (IsKuraSecretVariable(upper)) return true;
    for (const auto& u : options.unset_env) {
      if (same(key, u)) return true;
    }
    for (const auto& [k, v] : options.env) {
      if (same(key, k)) return true;
    }
    return false;
  };
  std::vector<std::string> out;
  for (const std::string& e : parent) {
    if (!removed(e)) out.push_back(e);
  }
  for (const auto& [k, v] : options.env) out.push_back(k + "=" + v);
  return out;
}

int SignalRunningChildren(int signal, uint64_t started_up_to) {
  LiveChildren& live = Live();
  std::lock_guard lock(live.mu);
  int n = 0;
  for (const auto& [number, child] : live.list) {
    if (number > started_up_to) continue;
    child->Signal(signal);
    ++n;
  }
  return n;
}

uint64_t ChildStartCount() {
  LiveChildren& live = Live();
  std::lock_guard lock(live.mu);
  return live.started;
}

std::string FindInPath(const std::string& program) {
  ProcessOptions none;
  return FindInSearchPath(program, PathFromEnv(none));
}

Result<std::unique_ptr<Process>> Process::Start(const ProcessOptions& options) {
  if (options.argv.empty())
    return Status::InvalidArgument(std::string(L("実行するコマンドが空です", "empty command")));
  const std::string& program = options.argv[0];
  std::string exe = FindInSearchPath(program, PathFromEnv(options));
  if (exe.empty()) return MissingProgram(program);

  std::wstring line;
  for (const auto& arg : options.argv) {
    auto wide = win::WideName(arg);
    if (!wide)
      return Status::InvalidArgument(
          Tr("{} の引数が UTF-8 ではありません", "an argument of {} is not UTF-8", program));
    if (!line.empty()) line += L' ';
    AppendQuoted(line, *wide);
  }
  std::wstring env_block;
  for (const auto& e : BuildChildEnvironment(options, ParentEnvironment())) {
    auto wide = win::WideName(e);
    if (!wide) continue;
    env_block += *wide;
    env_block += L'\0';
  }
  env_block += L'\0';
  auto wide_exe = win::WidePath(exe);
  std::optional<std::wstring> wide_cwd;
  if (!options.cwd.empty()) wide_cwd = win::WidePath(options.cwd);
  if (!wide_exe || (!options.cwd.empty() && !wide_cwd)) return MissingProgram(program);

  OwnedHandle in_r, in_w, out_r, out_w, err_r, err_w;
  const auto pipe_what = L("パイプ作成", "pipe");
  if ((options.pipe_stdin && !MakePipe(in_r, in_w, /*child_reads=*/true)) ||
      (options.pipe_stdout && !MakePipe(out_r, out_w, false)) || !MakePipe(err_r, err_w, false)) {
    return win::LastErrorStatus(::GetLastError(), pipe_what, program);
  }
  OwnedHandle nul_in, nul_out;
  if (!options.pipe_stdin) nul_in.reset(OpenNul(false));
  if (!options.pipe_stdout) nul_out.reset(OpenNul(true));
  HANDLE child_in = options.pipe_stdin ? in_r.get() : nul_in.get();
  HANDLE child_out = options.pipe_stdout ? out_w.get() : nul_out.get();
  if (child_in == nullptr || child_out == nullptr)
    return win::LastErrorStatus(::GetLastError(), pipe_what, program);

  HANDLE inherit[3] = {child_in, child_out, err_w.get()};
  SIZE_T attr_size = 0;
  ::InitializeProcThreadAttributeList(nullptr, 1, 0, &attr_size);
  std::vector<uint8_t> attr_buf(attr_size);
  auto* attrs = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attr_buf.data());
  if (!::InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size) ||
      !::UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, sizeof inherit,
                                   nullptr, nullptr)) {
    return win::LastErrorStatus(::GetLastError(), L("プログラムの起動", "starting a program"), exe);
  }
  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = child_in;
  si.StartupInfo.hStdOutput = child_out;
  si.StartupInfo.hStdError = err_w.get();
  si.lpAttributeList = attrs;

  OwnedHandle job(::CreateJobObjectW(nullptr, nullptr));
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (job.get() == nullptr ||
      !::SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
    ::DeleteProcThreadAttributeList(attrs);
    return win::LastErrorStatus(::GetLastError(), L("プログラムの起動", "starting a program"), exe);
  }

  PROCESS_INFORMATION pi{};
  // Suspended until it is in the job, so nothing it starts can escape the job.
  BOOL ok = ::CreateProcessW(
      wide_exe->c_str(), line.data(), nullptr, nullptr, TRUE,
      CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT,
      env_block.data(), wide_cwd ? wide_cwd->c_str() : nullptr, &si.StartupInfo, &pi);
  DWORD start_err = ok ? 0 : ::GetLastError();
  ::DeleteProcThreadAttributeList(attrs);
  if (!ok) {
    if (start_err == ERROR_DIRECTORY ||
        (start_err == ERROR_PATH_NOT_FOUND && wide_cwd && !PathExists(options.cwd))) {
      return win::LastErrorStatus(start_err, L("作業ディレクトリへの移動", "chdir"), options.cwd);
    }
    if (start_err == ERROR_FILE_NOT_FOUND || start_err == ERROR_PATH_NOT_FOUND)
      return MissingProgram(program);
    return win::LastErrorStatus(start_err, L("プログラムの起動", "starting a program"), exe);
  }
  OwnedHandle process(pi.hProcess);
  OwnedHandle thread(pi.hThread);
  if (!::AssignProcessToJobObject(job.get(), pi.hProcess)) {
    DWORD err = ::GetLastError();
    ::TerminateProcess(pi.hProcess, 1);
    return win::LastErrorStatus(err, L("プログラムの起動", "starting a program"), exe);
  }
  ::ResumeThread(pi.hThread);

  int stdout_fd = -1;
  if (options.pipe_stdout) {
    stdout_fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(out_r.get()), _O_RDONLY | _O_BINARY);
    if (stdout_fd >= 0) out_r.release();
  }
  std::unique_ptr<Process> p = std::make_unique<WinProcess>(
      process.release(), job.release(), pi.dwProcessId, program,
      options.pipe_stdin ? in_w.release() : nullptr, stdout_fd, err_r.release(), options.stderr_tail_bytes);
  return p;
}

Result<ProcessOutput> RunProcess(const ProcessOptions& options, size_t max_stdout) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<Process> p, Process::Start(options));
  ProcessOutput result;
  if (options.pipe_stdout) {
    uint8_t buf[1 << 15];
    for (;;) {
      KURA_ASSIGN_OR_RETURN(size_t n, p->Stdout().Read(buf, sizeof buf));
      if (n == 0) break;
      // Past max_stdout the output is drained and dropped so the child never blocks on a full pipe.
      size_t keep = std::min(n, max_stdout - std::min(max_stdout, result.out.size()));
      result.out.append(reinterpret_cast<const char*>(buf), keep);
    }
  }
  KURA_ASSIGN_OR_RETURN(result.exit_code, p->Wait());
  result.err = p->StderrTail();
  return result;
}

}  // namespace kura
