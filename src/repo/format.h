// Constants of the repository format. Specification: docs/format.md (keep both in step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kura::format {

// Version 2 (docs/format.md, "Version history"): snapshot metadata may hold names that are
// not UTF-8 as `<key>_b64`. `init` writes 2; version 1 repositories are read and written
// as they are.
inline constexpr uint32_t kRepositoryVersion = 2;
inline constexpr uint32_t kKeySlotVersion = 1;
inline constexpr uint32_t kPackVersion = 1;
// The newest snapshot version this kura reads and writes.
inline constexpr uint32_t kSnapshotVersion = 2;
// Written instead of kSnapshotVersion when every text field is UTF-8 (no `_b64` field), so
// that kura releases reading only version 1 still read such snapshots.
inline constexpr uint32_t kSnapshotVersionText = 1;

inline constexpr std::string_view kPackMagic = "KURAPACK";
inline constexpr std::string_view kSnapshotMagic = "KURASNAP";
inline constexpr size_t kPackHeaderFixed = 16;  // magic + version + count
inline constexpr size_t kPackEntrySize = 48;

inline constexpr std::string_view kInfoData = "kura v1 data";
inline constexpr std::string_view kInfoBlobId = "kura v1 blob-id";
inline constexpr std::string_view kInfoChunker = "kura v1 chunker";
inline constexpr std::string_view kInfoSnapshot = "kura v1 snapshot";
inline constexpr std::string_view kKeyWrapAadPrefix = "kura-key v1 ";

inline constexpr uint8_t kCompressionNone = 0;
inline constexpr uint8_t kCompressionZstd = 1;
inline constexpr uint8_t kBlobTypeData = 0;

// Default: 8 MiB packs, a compromise between object count and memory (docs/adr/0002).
inline constexpr uint32_t kDefaultPackTargetSize = 8u << 20;
// Sanity bound for parsing untrusted headers.
inline constexpr uint32_t kMaxPackEntries = 1u << 20;
inline constexpr uint32_t kMaxBlobSize = 64u << 20;

}  // namespace kura::format
