#include "sources/db_common.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "util/bytes.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

Result<std::string> ResolvePassword(const DbConnection& conn) {
  if (!conn.password.empty() || conn.password_file.empty()) return conn.password;
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(conn.password_file));
  std::string first = text.substr(0, text.find('\n'));
  if (!first.empty() && first.back() == '\r') first.pop_back();
  SecureZero(text.data(), text.size());
  return first;
}

std::string ToolPath(const DbConnection& conn, const std::string& tool) {
  if (conn.client_dir.empty()) return tool;
  return conn.client_dir + "/" + tool;
}

EntryMeta StreamMeta(const std::string& name) {
  EntryMeta meta;
  meta.path = name;
  meta.type = EntryType::kFile;
  meta.mode = 0600;
  meta.mtime = static_cast<int64_t>(std::time(nullptr));
  meta.uid = ::getuid();
  meta.gid = ::getgid();
  return meta;
}

Result<std::string> FindStream(const SnapshotReader& in, const std::string& wanted,
                               const std::string& suffix) {
  std::vector<std::string> candidates;
  for (const auto& e : in.Entries()) {
    if (e.type != EntryType::kFile) continue;
    if (!wanted.empty()) {
      if (e.path == wanted) return e.path;
      continue;
    }
    if (e.path.size() >= suffix.size() &&
        e.path.compare(e.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      candidates.push_back(e.path);
    }
  }
  if (!wanted.empty()) {
    return Status::NotFound(
        Tr("スナップショットにストリーム {} がありません", "the snapshot has no stream {}", wanted));
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    return Status::NotFound(
        Tr("スナップショットに *{} のストリームがありません", "the snapshot has no *{} stream", suffix));
  }
  return Status::InvalidArgument(
      Tr("スナップショットに *{} のストリームが複数あります。復元するものを指定してください",
         "the snapshot has several *{} streams; name the one to restore", suffix));
}

std::string LastLines(const std::string& text, size_t max_lines) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += lines[i];
  }
  return out;
}

Status ToolMissing(const Status& status, const std::string& tool, const std::string& package) {
  if (status.code() != Code::kNotFound) return status;
  return Status::NotFound(
      Tr("{} が見つかりません。{} パッケージをインストールするか、設定の client_dir を確認してください",
         "{} not found. Install the {} package or check client_dir in the configuration", tool, package));
}

Status ToolFailure(const std::string& tool, const std::string& target, int exit_code,
                   const FailureCause& cause, const std::string& stderr_tail, bool for_restore) {
  std::string why = cause.text;
  if (why.empty()) {
    if (exit_code > 128 && exit_code < 128 + 65) {
      why = Tr("シグナル {} で強制終了されました", "killed by signal {}", exit_code - 128);
    } else {
      why = Tr("終了コード {}", "exit code {}", exit_code);
    }
  }
  std::string msg = Tr("{} ({}) が失敗しました: {}", "{} ({}) failed: {}", tool, target, why);
  std::string tail = LastLines(stderr_tail);
  if (!tail.empty()) msg += Tr("\n{} の出力:\n{}", "\noutput of {}:\n{}", tool, tail);
  Code code = for_restore ? cause.code : Code::kSourceFailed;
  return Status(code, msg);
}

namespace {

// Stdout of a dump tool. At EOF it waits for the tool: a non-zero exit turns EOF into an
// error, so the writer never records a truncated dump as complete.
class CheckedProcessReader : public ByteReader {
 public:
  CheckedProcessReader(Process& p, const FailureExplainer& explain) : p_(p), explain_(explain) {}

  Result<size_t> Read(uint8_t* buf, size_t n) override {
    if (!failure_.ok()) return failure_;
    if (done_) return size_t{0};
    KURA_ASSIGN_OR_RETURN(size_t k, p_.Stdout().Read(buf, n));
    if (k > 0) return k;
    auto code = p_.Wait();
    if (!code.ok()) {
      failure_ = code.status();
    } else if (*code != 0) {
      failure_ = explain_(*code, p_.StderrTail());
    }
    done_ = true;
    if (!failure_.ok()) return failure_;
    return size_t{0};
  }
  const Status& failure() const { return failure_; }
  bool done() const { return done_; }

 private:
  Process& p_;
  const FailureExplainer& explain_;
  Status failure_;
  bool done_ = false;
};

}  // namespace

Status StreamProcessOutput(SnapshotWriter& out, const ProcessOptions& options, const EntryMeta& meta,
                           const FailureExplainer& explain) {
  ProcessOptions o = options;
  o.pipe_stdout = true;
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<Process> p, Process::Start(o));
  CheckedProcessReader reader(*p, explain);
  Status added = out.AddFile(meta, reader);
  if (!reader.failure().ok()) return reader.failure();
  if (!reader.done()) {
    // The writer stopped early (its own error): stop the tool and report the writer's error.
    p->Kill();
    (void)p->Wait();
    if (added.ok()) return Status::Internal("snapshot writer returned before EOF of " + meta.path);
    return added;
  }
  return added;
}

Status FeedStreamToProcess(SnapshotReader& in, const std::string& stream, ProcessOptions options,
                           const FailureExplainer& explain) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<ByteReader> content, in.Open(stream));
  options.pipe_stdin = true;
  options.pipe_stdout = false;
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<Process> p, Process::Start(options));
  std::vector<uint8_t> buf(1 << 16);
  Status feed;
  for (;;) {
    auto n = content->Read(buf.data(), buf.size());
    if (!n.ok()) {
      // A corrupt or unreadable stream: stop the tool so a partial restore is not committed.
      p->Kill();
      (void)p->Wait();
      return n.status();
    }
    if (*n == 0) break;
    feed = p->Stdin().Write(buf.data(), *n);
    if (!feed.ok()) break;  // the tool exited early; its exit code says why
  }
  p->CloseStdin();
  KURA_ASSIGN_OR_RETURN(int code, p->Wait());
  if (code != 0) return explain(code, p->StderrTail());
  return feed;
}

Result<std::unique_ptr<PrivateTempDir>> PrivateTempDir::Create(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t != nullptr && *t != '\0') ? t : "/tmp";
  }
  std::string templ = base + "/kura-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return ErrnoStatus(errno, L("一時ディレクトリの作成", "creating a temporary directory"), base);
  }
  return std::unique_ptr<PrivateTempDir>(new PrivateTempDir(templ));
}

PrivateTempDir::~PrivateTempDir() {
  RemoveTree(path_);
}

Status WriteSecretFile(const std::string& path, const std::string& contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(errno, L("書き込み", "write"), path);
  ::fchmod(fd, 0600);
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return ErrnoStatus(err, L("書き込み", "write"), path);
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return ErrnoStatus(err, L("書き込み", "write"), path);
  }
  return Status::Ok();
}

void RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = ::opendir(path.c_str())) {
      while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        RemoveTree(path + "/" + name);
      }
      ::closedir(d);
    }
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

}  // namespace kura
