// Error statuses every ObjectStore implementation reports the same way, so a user reads
// the same advice whichever store holds the repository. Internal to src/objstore.
#pragma once

#include <cstdint>
#include <string>

#include "kura/status.h"
#include "objstore/object_store.h"

namespace kura {

// kNotFound for a missing object; `where` is its path or the store's location.
Status ObjectNotFoundStatus(ObjectType type, const std::string& name, const std::string& where);

// kCorruption for an object of `size` bytes read up to byte `needed`.
Status TruncatedObjectStatus(ObjectType type, const std::string& name, const std::string& where,
                             uint64_t size, uint64_t needed);

// kInvalidArgument when offset + length does not fit in 64 bits.
Status CheckRange(const std::string& where, uint64_t offset, uint64_t length);

}  // namespace kura
