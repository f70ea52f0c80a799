// Snapshots over arbitrary bytes. The first byte picks what to fuzz:
//   even: the whole object, through ParseSnapshot (keyless, as the vault reads it) and
//         OpenSnapshotMeta (which must then fail authentication or parse);
//   odd:  the rest is the metadata JSON, sealed here with a fixed key into an otherwise
//         valid snapshot, so the parser behind the authentication check is reached too.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "repo/format.h"
#include "repo/snapshot.h"

namespace {

const kura::RepoKeys& Keys() {
  static const kura::RepoKeys keys = kura::RepoKeys::Derive(kura::crypto::SecretKey(kura::Bytes(32, 7)));
  return keys;
}

kura::Bytes SealMeta(kura::ByteView json, uint32_t version) {
  std::string plain =
      R"({"repository":"00112233445566778899aabbccddeeff","kind":"daily",)"
      R"("time":"2026-11-21T05:53:14Z","time_ms":1763704394000,"size":{"bytes":1,"entries":1}})";
  kura::Bytes out;
  kura::Append(out, kura::AsBytes(kura::format::kSnapshotMagic));
  kura::PutU32(out, version);
  kura::PutU32(out, static_cast<uint32_t>(plain.size()));
  kura::Append(out, kura::AsBytes(plain));
  kura::PutU32(out, 2);  // two referenced blobs, so blob indexes 0 and 1 are valid
  kura::crypto::Hash a{}, b{};
  b[0] = 1;
  kura::Append(out, a);
  kura::Append(out, b);
  kura::Bytes z(ZSTD_compressBound(json.size()));
  z.resize(ZSTD_compress(z.data(), z.size(), json.data(), json.size(), 1));
  kura::Bytes sealed = kura::crypto::Seal(Keys().snapshot, z, kura::crypto::Sha256(out));
  kura::PutU32(out, static_cast<uint32_t>(sealed.size()));
  kura::Append(out, sealed);
  return out;
}

void Check(const kura::Status& st) {
  if (!st.ok() && st.code() != kura::Code::kCorruption && st.code() != kura::Code::kUnsupported) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  kura::ByteView rest(data + 1, size - 1);
  kura::crypto::Hash a{}, b{};
  b[0] = 1;
  auto known = [&](const kura::crypto::Hash& h) { return h == a || h == b; };
  switch (data[0] % 4) {
    case 0: {  // the whole object, keyless and keyed
      auto snap = kura::ParseSnapshot("fuzz", rest);
      Check(snap.status());
      if (snap.ok()) {
        for (size_t i = 1; i < snap->blobs.size(); ++i) {
          if (!(snap->blobs[i - 1] < snap->blobs[i])) std::abort();
        }
      }
      Check(kura::OpenSnapshotMeta(Keys(), "fuzz", rest).status());
      return 0;
    }
    case 1:    // sealed metadata of version 2 (entries inside)
    case 2: {  // and of version 3 (a head listing entry pages)
      uint32_t version = data[0] % 4 == 1 ? 2 : 3;
      auto meta = kura::OpenSnapshotMeta(Keys(), "fuzz", SealMeta(rest, version));
      Check(meta.status());
      if (!meta.ok()) return 0;
      for (const kura::SnapshotEntry& e : meta->entries) {
        if (!kura::IsSafeRelativePath(e.meta.path)) std::abort();  // never an escaping path
        for (const kura::crypto::Hash& h : e.blobs) {
          if (!known(h)) std::abort();  // only blobs the keyless list holds
        }
      }
      for (const kura::crypto::Hash& h : meta->pages) {
        if (!known(h)) std::abort();
      }
      return 0;
    }
    default: {  // one entry page line
      kura::SnapshotEntry e;
      bool more = false;
      std::string_view line(reinterpret_cast<const char*>(rest.data()), rest.size());
      kura::Status st = kura::ParseEntryLine(line, &e, &more, "fuzz");
      Check(st);
      if (st.ok() && !more && !kura::IsSafeRelativePath(e.meta.path)) std::abort();
      return 0;
    }
  }
}
