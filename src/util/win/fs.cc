// Windows implementation of util/fs.h (docs/windows-port.md §1): Win32 calls on UTF-16
// paths from WidePath(), errors from GetLastError() through LastErrorStatus().
#include "util/fs.h"

#include <windows.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "util/i18n.h"
#include "util/win/error.h"
#include "util/win/wide.h"

namespace kura {

Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string detail = std::strerror(err);
  switch (err) {
    case ENOSPC:
      return Status::NoSpace(
          Tr("{}に失敗しました: {}: ディスクの空き容量が不足しています ({})。"
             "不要なファイルを削除するか、保存先の容量を増やしてから再実行してください",
             "{} failed: {}: the disk is full ({}). Free some space or enlarge the "
             "storage, then run again",
             what, path, detail));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(Tr("{}に失敗しました: {}: アクセス権がありません ({})",
                                         "{} failed: {}: permission denied ({})", what, path, detail));
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(Tr("{}に失敗しました: {}: 見つかりません ({})", "{} failed: {}: not found ({})",
                                 what, path, detail));
    case EEXIST:
      return Status::AlreadyExists(
          Tr("{}に失敗しました: {}: 既に存在します", "{} failed: {}: already exists", what, path));
    default:
      return Status::IOError(Tr("{}に失敗しました: {}: {}", "{} failed: {}: {}", what, path, detail));
  }
}

namespace win {

Status LastErrorStatus(unsigned long err, std::string_view what, const std::string& path) {
  // The system's own text for the code, in English whatever the user's language: it is a
  // detail for the vendor's support, the sentence around it is the user's.
  wchar_t* buf = nullptr;
  DWORD n = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
      err, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
  std::string detail = n > 0 ? NarrowName(std::wstring_view(buf, n)) : "";
  if (buf) ::LocalFree(buf);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r' || detail.back() == '.')) {
    detail.pop_back();
  }
  detail += " (Windows error " + std::to_string(err) + ")";
  switch (err) {
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ErrnoStatus(ENOSPC, what, path);
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return Status::PermissionDenied(Tr("{}に失敗しました: {}: アクセス権がありません ({})",
                                         "{} failed: {}: permission denied ({})", what, path, detail));
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
      return Status::NotFound(Tr("{}に失敗しました: {}: 見つかりません ({})", "{} failed: {}: not found ({})",
                                 what, path, detail));
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return Status::AlreadyExists(
          Tr("{}に失敗しました: {}: 既に存在します", "{} failed: {}: already exists", what, path));
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return Status::Locked(
          Tr("{}に失敗しました: {}: 他のプログラムが使用中です。"
             "そのプログラムを終了してから再実行してください ({})",
             "{} failed: {}: the file is in use by another program. Close that "
             "program, then run again ({})",
             what, path, detail));
    default:
      return Status::IOError(Tr("{}に失敗しました: {}: {}", "{} failed: {}: {}", what, path, detail));
  }
}

}  // namespace win

namespace {

// A name that cannot be a Windows path (bytes that are not WTF-8).
Status BadName(std::string_view what, const std::string& path) {
  return Status::InvalidArgument(
      Tr("{}に失敗しました: {}: Windows のファイル名にできない文字が含まれています",
         "{} failed: {}: the name has bytes that cannot be a Windows file name", what, path));
}

class Handle {
 public:
  explicit Handle(HANDLE h) : h_(h) {}
  ~Handle() { Close(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  bool ok() const { return h_ != INVALID_HANDLE_VALUE; }
  HANDLE get() const { return h_; }
  bool Close() {
    if (h_ == INVALID_HANDLE_VALUE) return true;
    bool closed = ::CloseHandle(h_) != 0;
    h_ = INVALID_HANDLE_VALUE;
    return closed;
  }

 private:
  HANDLE h_;
};

size_t LastSeparator(const std::string& path) {
  return path.find_last_of("/\\");
}

std::string DirName(const std::string& path) {
  auto pos = LastSeparator(path);
  if (pos == std::string::npos) return ".";
  if (pos == 0) return path.substr(0, 1);
  if (pos == 2 && path[1] == ':') return path.substr(0, 3);  // "C:\"
  return path.substr(0, pos);
}

// A directory that has no parent to create: a drive root, "\\server\share", or "/".
bool IsRoot(const std::string& path) {
  if (path.size() <= 1) return true;
  if (path.size() <= 3 && path[1] == ':') return true;
  if (path.rfind("\\\\", 0) == 0 || path.rfind("//", 0) == 0) {
    auto server_end = path.find_first_of("/\\", 2);
    return server_end == std::string::npos || path.find_first_of("/\\", server_end + 1) == std::string::npos;
  }
  return false;
}

std::string TempPathFor(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name =
      DirName(path) + "\\" + std::string(kAtomicTempPrefix) + std::to_string(::GetCurrentProcessId()) + "-";
  uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) name += kDigits[r & 0xf];
  return name;
}

}  // namespace

Result<Bytes> ReadFile(const std::string& path) {
  const auto what = L("読み込み", "read");
  auto wide = win::WidePath(path);
  if (!wide) return BadName(what, path);
  // Share everything: kura reading a file must not stop the program that owns it.
  Handle h(::CreateFileW(wide->c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         nullptr, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, nullptr));
  if (!h.ok()) return win::LastErrorStatus(::GetLastError(), what, path);
  Bytes out;
  LARGE_INTEGER size{};
  if (::GetFileSizeEx(h.get(), &size) && size.QuadPart > 0) out.reserve(static_cast<size_t>(size.QuadPart));
  uint8_t buf[1 << 16];
  for (;;) {
    DWORD n = 0;
    if (!::ReadFile(h.get(), buf, sizeof buf, &n, nullptr))
      return win::LastErrorStatus(::GetLastError(), what, path);
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<std::string> ReadTextFile(const std::string& path) {
  KURA_ASSIGN_OR_RETURN(Bytes b, ReadFile(path));
  return std::string(b.begin(), b.end());
}

// NTFS journals metadata, and a rename done with MOVEFILE_WRITE_THROUGH is on disk when
// MoveFileExW returns, so there is nothing to flush; the directory must still exist.
Status SyncDir(const std::string& dir) {
  const auto what = L("ディレクトリの同期", "directory sync");
  auto wide = win::WidePath(dir);
  if (!wide) return BadName(what, dir);
  if (::GetFileAttributesW(wide->c_str()) == INVALID_FILE_ATTRIBUTES) {
    return win::LastErrorStatus(::GetLastError(), what, dir);
  }
  return Status::Ok();
}

// `mode` has no Windows meaning: the file takes the ACL its directory passes on, which
// for kura's state is %ProgramData%\kura's (Administrators and SYSTEM only, set by the
// installer; docs/windows-port.md §1).
Status WriteFileAtomic(const std::string& path, ByteView data, int /*mode*/) {
  const auto what = L("書き込み", "write");
  const std::string tmp = TempPathFor(path);
  auto wide = win::WidePath(path);
  auto wide_tmp = win::WidePath(tmp);
  if (!wide || !wide_tmp) return BadName(what, path);
  Handle h(::CreateFileW(wide_tmp->c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL,
                         nullptr));
  if (!h.ok()) return win::LastErrorStatus(::GetLastError(), what, path);
  // Errors name the final path: the temporary name means nothing to the person reading.
  auto discard = [&](DWORD err) {
    h.Close();
    ::DeleteFileW(wide_tmp->c_str());
    return win::LastErrorStatus(err, what, path);
  };
  size_t off = 0;
  while (off < data.size()) {
    DWORD chunk = static_cast<DWORD>(std::min<size_t>(data.size() - off, 1u << 30));
    DWORD n = 0;
    if (!::WriteFile(h.get(), data.data() + off, chunk, &n, nullptr)) return discard(::GetLastError());
    off += n;
  }
  if (!::FlushFileBuffers(h.get())) return discard(::GetLastError());
  if (!h.Close()) return discard(::GetLastError());
  if (!::MoveFileExW(wide_tmp->c_str(), wide->c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return discard(::GetLastError());
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& path, int /*mode*/) {
  const auto what = L("ディレクトリ作成", "mkdir");
  if (path.empty()) return Status::Ok();
  auto wide = win::WidePath(path);
  if (!wide) return BadName(what, path);
  DWORD attrs = ::GetFileAttributesW(wide->c_str());
  if (attrs != INVALID_FILE_ATTRIBUTES) {
    if (attrs & FILE_ATTRIBUTE_DIRECTORY) return Status::Ok();
    return ErrnoStatus(ENOTDIR, what, path);
  }
  if (IsRoot(path)) return win::LastErrorStatus(::GetLastError(), what, path);
  std::string parent = DirName(path);
  if (parent != path && parent != ".") KURA_RETURN_IF_ERROR(MakeDirs(parent, 0));
  if (!::CreateDirectoryW(wide->c_str(), nullptr) && ::GetLastError() != ERROR_ALREADY_EXISTS) {
    return win::LastErrorStatus(::GetLastError(), what, path);
  }
  return Status::Ok();
}

// Like lstat: a link counts as existing whatever it points to.
bool PathExists(const std::string& path) {
  auto wide = win::WidePath(path);
  return wide && ::GetFileAttributesW(wide->c_str()) != INVALID_FILE_ATTRIBUTES;
}

}  // namespace kura
