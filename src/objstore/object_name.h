// Which names an ObjectStore accepts (see object_store.h and docs/objstore.md).
//
// kConfig has the single name "config"; every other type is named by the lowercase hex
// SHA-256 of its bytes (64 characters of [0-9a-f]). Checking this before a name reaches
// a path or a key is what keeps "../../etc/passwd" and friends out of the store.
#pragma once

#include <string_view>

#include "kura/status.h"
#include "objstore/object_store.h"

namespace kura {

inline constexpr std::string_view kConfigObjectName = "config";
inline constexpr size_t kObjectNameLength = 64;  // lowercase hex SHA-256

bool IsValidObjectName(ObjectType type, std::string_view name);

// kInvalidArgument naming the object unless IsValidObjectName(type, name).
Status CheckObjectName(ObjectType type, std::string_view name);

}  // namespace kura
