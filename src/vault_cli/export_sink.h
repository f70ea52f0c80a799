// Where `audit export` writes: standard output, or a file that appears whole or not at all
// (a temporary file beside it, fsync, rename), created 0600. Records are streamed, so an
// export of years of audit trail needs no more memory than one record.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "kura/status.h"

namespace kura::vault_cli {

class ExportSink {
 public:
  // `path` empty: standard output. Errors: those of creating the temporary file.
  static Result<ExportSink> Open(const std::string& path);
  ExportSink(ExportSink&& other) noexcept;
  ExportSink& operator=(ExportSink&&) = delete;
  ExportSink(const ExportSink&) = delete;
  ExportSink& operator=(const ExportSink&) = delete;
  // Removes the temporary file unless Finish() succeeded.
  ~ExportSink();

  Status Write(std::string_view text);
  // Flushes; for a file also fsync, rename into place and fsync of the directory.
  Status Finish();

 private:
  ExportSink() = default;
  Status Error(int err) const;
  std::string path_;  // "" for stdout
  std::string tmp_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace kura::vault_cli
