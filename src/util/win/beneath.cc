// Windows implementation of util/beneath.h (docs/windows-port.md §2). Windows has no
// openat, but the native NtCreateFile opens a name relative to a directory handle
// (OBJECT_ATTRIBUTES.RootDirectory), and FILE_OPEN_REPARSE_POINT opens a symbolic link or
// junction itself instead of its target: one such open per component, refusing every
// reparse point, is the component walk of the Linux fallback. The fds are the CRT's,
// made from the directory handles with _open_osfhandle, so the header stays as it is.
#include "util/beneath.h"

#include <fcntl.h>
#include <io.h>
#include <windows.h>
#include <winternl.h>

#include <cerrno>
#include <string>

#include "util/win/wide.h"

namespace kura {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::_close(fd_);
  fd_ = fd;
}

namespace {

int ErrnoOf(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return ENOENT;
    case ERROR_DIRECTORY:  // STATUS_NOT_A_DIRECTORY
      return ENOTDIR;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
      return EACCES;
    case ERROR_INVALID_NAME:
      return EINVAL;
    default:
      return EIO;
  }
}

int FdOf(HANDLE h) {
  int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(h), _O_RDONLY);
  if (fd < 0) {
    ::CloseHandle(h);
    errno = EMFILE;
  }
  return fd;
}

}  // namespace

int OpenChildDir(int dir, const std::string& name) {
  // One component: no separator of either kind, no stream name (':'), not "." or "..".
  if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\:") != std::string::npos) {
    errno = EINVAL;
    return -1;
  }
  auto wide = win::WideName(name);
  if (!wide || wide->size() > 32767) {
    errno = EINVAL;
    return -1;
  }
  UNICODE_STRING uname;
  uname.Buffer = wide->data();
  uname.Length = static_cast<USHORT>(wide->size() * sizeof(wchar_t));
  uname.MaximumLength = uname.Length;
  OBJECT_ATTRIBUTES attrs;
  InitializeObjectAttributes(&attrs, &uname, OBJ_CASE_INSENSITIVE,
                             reinterpret_cast<HANDLE>(::_get_osfhandle(dir)), nullptr);
  IO_STATUS_BLOCK io{};
  HANDLE h = nullptr;
  NTSTATUS st =
      ::NtCreateFile(&h, FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE, &attrs,
                     &io, nullptr, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                     FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_REPARSE_POINT |
                         FILE_OPEN_FOR_BACKUP_INTENT,
                     nullptr, 0);
  if (st < 0) {
    errno = ErrnoOf(::RtlNtStatusToDosError(st));
    return -1;
  }
  // A symbolic link or junction opened as itself: never go through it (O_NOFOLLOW's ELOOP).
  FILE_BASIC_INFO basic{};
  if (!::GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic) ||
      (basic.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    ::CloseHandle(h);
    errno = ELOOP;
    return -1;
  }
  return FdOf(h);
}

namespace {

int DupDir(int root) {
  HANDLE dup = nullptr;
  if (!::DuplicateHandle(::GetCurrentProcess(), reinterpret_cast<HANDLE>(::_get_osfhandle(root)),
                         ::GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    errno = EBADF;
    return -1;
  }
  return FdOf(dup);
}

}  // namespace

// There is no openat2 on Windows: the component walk is the only way, so this switch
// has nothing to change.
void UseComponentWalkForTesting(bool /*on*/) {}

int OpenDirBeneath(int root, std::string_view rel) {
  int fd = DupDir(root);
  size_t start = 0;
  while (fd >= 0 && start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string name(rel.substr(start, end - start));
    start = end + 1;
    int next = OpenChildDir(fd, name);
    int err = errno;
    ::_close(fd);
    errno = err;
    fd = next;
  }
  return fd;
}

}  // namespace kura
