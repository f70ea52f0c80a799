// Constants of the repository format. Specification: docs/format.md (keep both in step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kura::format {

// Version 3 (docs/format.md, "Version history"): snapshots keep their entries in entry
// pages. `init` writes 3, so a kura that cannot read such snapshots (and would take them
// for damaged ones, whose data its prune does not protect) refuses the repository instead.
// Version 1 and 2 repositories are read and written as they are.
inline constexpr uint32_t kRepositoryVersion = 3;
inline constexpr uint32_t kKeySlotVersion = 1;
inline constexpr uint32_t kPackVersion = 1;
// The newest snapshot version this kura reads and writes: version 3, entries in page
// blobs (docs/format.md, "Entry pages"), so no reader or writer holds every entry at once.
inline constexpr uint32_t kSnapshotVersion = 3;
// Versions 1 and 2, read as ever (and written by EncodeSnapshotV2 for tests): 2 when a
// text field needs `_b64`, else 1.
inline constexpr uint32_t kSnapshotVersionNames = 2;
inline constexpr uint32_t kSnapshotVersionText = 1;

inline constexpr std::string_view kPackMagic = "KURAPACK";
inline constexpr std::string_view kSnapshotMagic = "KURASNAP";
inline constexpr size_t kPackHeaderFixed = 16;  // magic + version + count
inline constexpr size_t kPackEntrySize = 48;

inline constexpr std::string_view kInfoData = "kura v1 data";
inline constexpr std::string_view kInfoBlobId = "kura v1 blob-id";
inline constexpr std::string_view kInfoChunker = "kura v1 chunker";
inline constexpr std::string_view kInfoSnapshot = "kura v1 snapshot";
inline constexpr std::string_view kInfoPages = "kura v1 entry pages";

// Entry pages (snapshot version 3): a page ends after the first entry line at which it
// holds at least kPageMin bytes and the line's keyed SipHash has its low kPageBits bits
// zero (about 2^kPageBits entries per page), or at kPageMax bytes.
inline constexpr size_t kPageMin = 16u << 10;
inline constexpr size_t kPageMax = 1u << 20;
inline constexpr uint32_t kPageBits = 8;
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
