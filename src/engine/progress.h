// Progress of long work (backup, restore, verify), reported from the engine to whoever shows it.
#pragma once

#include <cstdint>
#include <string>

namespace kura {

struct Progress {
  uint64_t bytes_done = 0;    // bytes read (backup) or written/checked (restore, verify)
  uint64_t bytes_total = 0;   // 0 when unknown
  uint64_t bytes_stored = 0;  // new bytes written to the repository
  uint64_t items_done = 0;    // files, packs, ...
  std::string current;        // what is being worked on
};

// Implementations must be cheap and thread-safe: Update() is called often from a hot loop.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void Update(const Progress& p) = 0;
  virtual void Done() {}
};

}  // namespace kura
