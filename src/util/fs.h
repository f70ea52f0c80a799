// Small POSIX file helpers that return Status. Every error message names the path and
// says what to do in the user's language; errno is mapped to a Code (ENOSPC -> kNoSpace,
// EACCES -> kPermissionDenied, ENOENT -> kNotFound, ...).
#pragma once

#include <string>

#include "kura/status.h"
#include "util/bytes.h"

namespace kura {

// A Status for a failed system call on `path`; `what` says what was being done
// (for example "書き込み" / "write" is chosen by the caller through L()).
Status ErrnoStatus(int err, std::string_view what, const std::string& path);

Result<Bytes> ReadFile(const std::string& path);
Result<std::string> ReadTextFile(const std::string& path);

// Temporary files of WriteFileAtomic are named "<dir>/.tmp-<pid>-<16 hex>": hidden, and
// recognisable by this prefix so that stores and queues skip them and clean them up.
inline constexpr std::string_view kAtomicTempPrefix = ".tmp-";

// Writes `data` to `path` so that a reader sees either the old file or the whole new one:
// a temporary file in the same directory, fsync, rename, fsync of the directory. Errors
// name `path` (not the temporary file); on error the temporary file is removed.
// The file gets exactly permission bits `mode`, whatever the umask (0600 for anything secret).
Status WriteFileAtomic(const std::string& path, ByteView data, int mode = 0644);

// mkdir -p with `mode` for created directories.
Status MakeDirs(const std::string& path, int mode = 0755);

// fsync of a directory, so a rename or unlink in it is durable.
Status SyncDir(const std::string& dir);

bool PathExists(const std::string& path);

}  // namespace kura
