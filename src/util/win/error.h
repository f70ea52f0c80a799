// Windows only: a Status for a failed Win32 call, the counterpart of ErrnoStatus
// (util/fs.h) for GetLastError() codes.
#pragma once

#include <string>
#include <string_view>

#include "kura/status.h"

namespace kura::win {

// `err` is a GetLastError() value; `what` says what was being done (through L()), `path`
// what it was done to. A file held open by another program (sharing or lock violation)
// gets its own message, since on Windows that is an everyday cause (issue 8 §2).
Status LastErrorStatus(unsigned long err, std::string_view what, const std::string& path);

}  // namespace kura::win
