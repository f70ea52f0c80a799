#include "repo/snapshot.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "repo/format.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/text.h"

namespace kura {

using nlohmann::json;

static std::string_view TypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
  }
  return "file";
}

// Text fields hold bytes: a file name or link target on POSIX is any byte string, and
// nlohmann::json refuses to write a string that is not UTF-8. A value that is not UTF-8 is
// stored losslessly as `<key>_b64` (base64), with the escaped form for people in `<key>`
// (docs/format.md, "Names that are not UTF-8"). Such a snapshot is written as version 2.
struct MetaWriter {
  bool raw = false;  // some field needed `_b64`

  void Put(json& j, const std::string& key, const std::string& value) {
    if (IsValidUtf8(value)) {
      j[key] = value;
      return;
    }
    j[key] = EscapeName(value);
    j[key + "_b64"] = Base64Encode(value);
    raw = true;
  }

  void PutList(json& j, const std::string& key, const std::vector<std::string>& values) {
    json shown = json::array();
    bool all_text = true;
    for (const std::string& v : values) {
      all_text = all_text && IsValidUtf8(v);
      shown.push_back(IsValidUtf8(v) ? v : EscapeName(v));
    }
    j[key] = std::move(shown);
    if (all_text) return;
    json b64 = json::array();
    for (const std::string& v : values) b64.push_back(Base64Encode(v));
    j[key + "_b64"] = std::move(b64);
    raw = true;
  }
};

// The fields every version shares; `blobs` is written by the caller (indexes in versions
// 1 and 2, IDs in version 3).
static json EntryJson(const SnapshotEntry& e, MetaWriter& w) {
  json j{{"type", TypeName(e.meta.type)},
         {"mode", e.meta.mode},
         {"mtime", e.meta.mtime},
         {"uid", e.meta.uid},
         {"gid", e.meta.gid}};
  w.Put(j, "path", e.meta.path);
  if (e.meta.type == EntryType::kFile) {
    j["size"] = e.size;
    j["sha256"] = e.sha256;
    if (!e.meta.change_key.empty()) w.Put(j, "ck", e.meta.change_key);
    if (e.meta.sparse) j["sparse"] = true;
  }
  if (e.meta.type == EntryType::kSymlink) w.Put(j, "target", e.meta.symlink_target);
  return j;
}

static json HeadJson(const SnapshotMeta& meta, MetaWriter& w) {
  json warnings = json::array();
  for (const SnapshotWarning& sw : meta.warnings) {
    json j = json::object();
    w.Put(j, "path", sw.path);
    w.Put(j, "message", sw.message);
    warnings.push_back(std::move(j));
  }
  json source = json::object();
  w.Put(source, "kind", meta.source_kind);
  w.Put(source, "name", meta.source_name);
  json doc = json::object();
  w.Put(doc, "host", meta.host);
  w.Put(doc, "kura_version", meta.kura_version);
  doc["source"] = std::move(source);
  w.PutList(doc, "tags", meta.tags);
  doc["warnings"] = std::move(warnings);
  return doc;
}

static json HexList(const std::vector<crypto::Hash>& ids, size_t from, size_t to) {
  json out = json::array();
  for (size_t i = from; i < to; ++i) out.push_back(ToHex(ids[i]));
  return out;
}

void AppendEntryLines(const SnapshotEntry& entry, std::string& out) {
  MetaWriter w;
  json j = EntryJson(entry, w);
  size_t n = entry.blobs.size();
  if (entry.meta.type == EntryType::kFile)
    j["blobs"] = HexList(entry.blobs, 0, std::min(n, kMaxBlobsPerLine));
  out += j.dump();
  out += '\n';
  for (size_t from = kMaxBlobsPerLine; from < n; from += kMaxBlobsPerLine) {
    json more{{"more", HexList(entry.blobs, from, std::min(n, from + kMaxBlobsPerLine))}};
    out += more.dump();
    out += '\n';
  }
}

template <class Ids>
static Bytes Assemble(uint32_t version, const SnapshotPlain& plain, const Ids& blobs, const RepoKeys& keys,
                      const std::string& mtext) {
  json pj{{"repository", plain.repository},
          {"kind", KindName(plain.kind)},
          {"time", FormatUtc(plain.time)},
          {"time_ms", plain.time_ms},
          {"size", {{"bytes", plain.bytes}, {"entries", plain.entries}, {"stored_new", plain.stored_new}}}};
  std::string ptext = pj.dump();
  Bytes z(ZSTD_compressBound(mtext.size()));
  size_t n = ZSTD_compress(z.data(), z.size(), mtext.data(), mtext.size(), 3);
  z.resize(ZSTD_isError(n) ? 0 : n);
  Bytes out;
  out.reserve(24 + ptext.size() + 32 * blobs.size() + z.size() + 28);
  Append(out, AsBytes(format::kSnapshotMagic));
  PutU32(out, version);
  PutU32(out, static_cast<uint32_t>(ptext.size()));
  Append(out, AsBytes(ptext));
  PutU32(out, static_cast<uint32_t>(blobs.size()));
  for (const crypto::Hash& h : blobs) Append(out, h);
  crypto::Hash aad = crypto::Sha256(out);
  Bytes sealed = crypto::Seal(keys.snapshot, z, aad);
  PutU32(out, static_cast<uint32_t>(sealed.size()));
  Append(out, sealed);
  return out;
}

Bytes EncodeSnapshotV2(const RepoKeys& keys, const SnapshotPlain& plain,
                       const std::vector<crypto::Hash>& blobs, const SnapshotMeta& meta) {
  MetaWriter writer;
  json doc = HeadJson(meta, writer);
  json entries = json::array();
  for (const SnapshotEntry& e : meta.entries) {
    json j = EntryJson(e, writer);
    if (e.meta.type == EntryType::kFile) {
      json idx = json::array();
      for (const crypto::Hash& id : e.blobs) {
        idx.push_back(std::lower_bound(blobs.begin(), blobs.end(), id) - blobs.begin());
      }
      j["blobs"] = std::move(idx);
    }
    entries.push_back(std::move(j));
  }
  doc["entries"] = std::move(entries);
  std::string mtext = doc.dump();
  // Version 1 whenever it suffices, so older kura still reads every snapshot it could.
  return Assemble(writer.raw ? format::kSnapshotVersionNames : format::kSnapshotVersionText, plain, blobs,
                  keys, mtext);
}

static std::string HeadText(const SnapshotMeta& meta) {
  MetaWriter writer;
  json doc = HeadJson(meta, writer);
  doc["entries"] = {{"count", meta.entry_count}, {"pages", HexList(meta.pages, 0, meta.pages.size())}};
  return doc.dump();
}

Bytes EncodeSnapshot(const RepoKeys& keys, const SnapshotPlain& plain, const std::vector<crypto::Hash>& blobs,
                     const SnapshotMeta& meta) {
  return Assemble(format::kSnapshotVersion, plain, blobs, keys, HeadText(meta));
}

Bytes EncodeSnapshot(const RepoKeys& keys, const SnapshotPlain& plain, const std::deque<crypto::Hash>& blobs,
                     const SnapshotMeta& meta) {
  return Assemble(format::kSnapshotVersion, plain, blobs, keys, HeadText(meta));
}

namespace {
struct Layout {
  uint32_t version = 0;
  size_t plain_offset = 0, plain_len = 0, blobs_offset = 0, blob_count = 0, sealed_offset = 0, sealed_len = 0;
};

Result<Layout> ParseLayout(const std::string& id, ByteView b) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(
        Tr("スナップショット {} が壊れています ({})", "snapshot {} is damaged ({})", id.substr(0, 8), why));
  };
  if (b.size() < 16 || std::memcmp(b.data(), format::kSnapshotMagic.data(), 8) != 0) return bad("bad magic");
  uint32_t version = GetU32(b.data() + 8);
  if (version == 0) return bad("bad version");
  if (version > format::kSnapshotVersion) {
    return Status::Unsupported(
        Tr("スナップショット {} は新しい形式 (version {}) です。kura を更新してください",
           "snapshot {} has a newer format (version {}); update kura", id.substr(0, 8), version));
  }
  Layout l;
  l.version = version;
  l.plain_offset = 16;
  l.plain_len = GetU32(b.data() + 12);
  if (b.size() - 16 < l.plain_len + 4) return bad("truncated");
  size_t p = 16 + l.plain_len;
  l.blob_count = GetU32(b.data() + p);
  l.blobs_offset = p + 4;
  if ((b.size() - l.blobs_offset) / 32 < l.blob_count) return bad("truncated");
  p = l.blobs_offset + 32 * l.blob_count;
  if (b.size() - p < 4) return bad("truncated");
  l.sealed_len = GetU32(b.data() + p);
  l.sealed_offset = p + 4;
  if (b.size() - l.sealed_offset != l.sealed_len) return bad("length mismatch");
  return l;
}
}  // namespace

static Result<Snapshot> ParseSnapshotUnchecked(const std::string& id, ByteView b, bool with_blobs) {
  KURA_ASSIGN_OR_RETURN(Layout l, ParseLayout(id, b));
  auto bad = [&](std::string_view why) {
    return Status::Corruption(
        Tr("スナップショット {} が壊れています ({})", "snapshot {} is damaged ({})", id.substr(0, 8), why));
  };
  json pj = json::parse(b.begin() + static_cast<long>(l.plain_offset),
                        b.begin() + static_cast<long>(l.plain_offset + l.plain_len), nullptr, false);
  if (!pj.is_object()) return bad("plaintext part");
  Snapshot s;
  s.id = id;
  s.plain.repository = pj.value("repository", "");
  auto kind = ParseKind(pj.value("kind", ""));
  if (!kind || !ParseUtc(pj.value("time", ""), &s.plain.time)) return bad("plaintext part");
  s.plain.kind = *kind;
  s.plain.time_ms = pj.value("time_ms", s.plain.time * 1000);
  const json& size = pj.value("size", json::object());
  s.plain.bytes = size.value("bytes", uint64_t{0});
  s.plain.entries = size.value("entries", uint64_t{0});
  s.plain.stored_new = size.value("stored_new", uint64_t{0});
  s.blob_count = l.blob_count;
  const uint8_t* ids = b.data() + l.blobs_offset;
  for (size_t i = 1; i < l.blob_count; ++i) {
    if (std::memcmp(ids + 32 * (i - 1), ids + 32 * i, 32) >= 0) return bad("blob list not sorted");
  }
  if (with_blobs) {
    s.blobs.resize(l.blob_count);
    if (l.blob_count > 0) std::memcpy(s.blobs.data(), ids, 32 * l.blob_count);
  }
  return s;
}

Result<ByteView> SnapshotBlobIds(const std::string& id, ByteView bytes) {
  KURA_RETURN_IF_ERROR(ParseSnapshot(id, bytes, /*with_blobs=*/false).status());
  KURA_ASSIGN_OR_RETURN(Layout l, ParseLayout(id, bytes));
  return bytes.subspan(l.blobs_offset, 32 * l.blob_count);
}

// json::value() throws on a field of the wrong type; snapshot bytes are untrusted input.
static Status WrongType(const std::string& id) {
  return Status::Corruption(Tr("スナップショット {} が壊れています ({})", "snapshot {} is damaged ({})",
                               id.substr(0, 8), "field type"));
}

Result<Snapshot> ParseSnapshot(const std::string& id, ByteView bytes, bool with_blobs) {
  try {
    return ParseSnapshotUnchecked(id, bytes, with_blobs);
  } catch (const json::exception&) {
    return WrongType(id);
  }
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

static std::optional<EntryType> ParseType(const std::string& t) {
  if (t == "file") return EntryType::kFile;
  if (t == "dir") return EntryType::kDirectory;
  if (t == "symlink") return EntryType::kSymlink;
  return std::nullopt;
}

namespace {

// Reads text fields: `<key>_b64`, when present, holds the exact bytes and `<key>` is then
// only for people. A `_b64` that is not canonical base64 marks the document damaged.
struct FieldReader {
  bool bad_b64 = false;
  std::string operator()(const json& j, const std::string& key) {
    auto b64 = j.find(key + "_b64");
    if (b64 != j.end()) {
      std::optional<std::string> bytes =
          b64->is_string() ? Base64Decode(b64->get<std::string>()) : std::nullopt;
      if (!bytes) bad_b64 = true;
      return bytes.value_or("");
    }
    return j.value(key, "");
  }
};

// Everything but the blobs. Returns the reason when the entry is damaged.
std::optional<std::string_view> EntryFromJson(const json& j, FieldReader& field, SnapshotEntry* e) {
  auto type = ParseType(j.value("type", ""));
  if (!type) return "entry type";
  e->meta.type = *type;
  e->meta.path = field(j, "path");
  e->meta.mode = j.value("mode", 0644u);
  e->meta.mtime = j.value("mtime", int64_t{0});
  e->meta.uid = j.value("uid", 0u);
  e->meta.gid = j.value("gid", 0u);
  e->meta.symlink_target = field(j, "target");
  e->meta.change_key = field(j, "ck");
  auto sp = j.find("sparse");
  e->meta.sparse = sp != j.end() && sp->is_boolean() && sp->get<bool>();
  e->size = j.value("size", uint64_t{0});
  e->sha256 = j.value("sha256", "");
  if (field.bad_b64) return "base64";
  // Refuse paths that could escape the restore target, even from a tampered snapshot.
  if (!IsSafeRelativePath(e->meta.path)) return "entry path";
  return std::nullopt;
}

bool AppendHexIds(const json& list, std::vector<crypto::Hash>* out) {
  if (!list.is_array()) return false;
  for (const json& h : list) {
    if (!h.is_string()) return false;
    std::optional<Bytes> raw = FromHex(h.get<std::string>());
    if (!raw || raw->size() != 32) return false;
    crypto::Hash id;
    std::memcpy(id.data(), raw->data(), 32);
    out->push_back(id);
  }
  return true;
}

}  // namespace

static Status ParseEntryLineUnchecked(std::string_view line, SnapshotEntry* entry, bool* more,
                                      std::string_view where) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(Tr("{} が壊れています ({})", "{} is damaged ({})", where, why));
  };
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return bad("entry line");
  auto cont = j.find("more");
  *more = cont != j.end();
  if (*more) return AppendHexIds(*cont, &entry->blobs) ? Status::Ok() : bad("blob list");
  *entry = SnapshotEntry();
  FieldReader field;
  if (auto why = EntryFromJson(j, field, entry)) return bad(*why);
  auto blobs = j.find("blobs");
  if (blobs != j.end() && !AppendHexIds(*blobs, &entry->blobs)) return bad("blob list");
  return Status::Ok();
}

Status ParseEntryLine(std::string_view line, SnapshotEntry* entry, bool* more, std::string_view where) {
  try {
    return ParseEntryLineUnchecked(line, entry, more, where);
  } catch (const json::exception&) {
    return Status::Corruption(Tr("{} が壊れています ({})", "{} is damaged ({})", where, "field type"));
  }
}

static Result<SnapshotMeta> OpenSnapshotMetaUnchecked(const RepoKeys& keys, const std::string& id,
                                                      ByteView b) {
  KURA_ASSIGN_OR_RETURN(Layout l, ParseLayout(id, b));
  auto bad = [&](std::string_view why) {
    return Status::Corruption(
        Tr("スナップショット {} が壊れています ({})", "snapshot {} is damaged ({})", id.substr(0, 8), why));
  };
  crypto::Hash aad = crypto::Sha256(b.first(l.sealed_offset - 4));
  auto z = crypto::Open(keys.snapshot, b.subspan(l.sealed_offset, l.sealed_len), aad);
  if (!z.ok()) return bad(L("暗号の検証に失敗", "authentication failed"));
  unsigned long long raw = ZSTD_getFrameContentSize(z->data(), z->size());
  if (raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN || raw > (1ull << 32)) {
    return bad("metadata");
  }
  std::string text(raw, '\0');
  size_t n = ZSTD_decompress(text.data(), text.size(), z->data(), z->size());
  if (ZSTD_isError(n) || n != raw) return bad("metadata");
  json mj = json::parse(text, nullptr, false);
  if (!mj.is_object()) return bad("metadata");
  SnapshotMeta m;
  m.version = l.version;
  FieldReader field;
  m.host = field(mj, "host");
  m.kura_version = field(mj, "kura_version");
  const json& src = mj.value("source", json::object());
  m.source_kind = field(src, "kind");
  m.source_name = field(src, "name");
  const json& tags = mj.value("tags", json::array());
  const json& tags_b64 = mj.value("tags_b64", json());
  if (!tags_b64.is_null() && (!tags_b64.is_array() || tags_b64.size() != tags.size())) return bad("tags");
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags_b64.is_array()) {
      std::optional<std::string> t =
          tags_b64[i].is_string() ? Base64Decode(tags_b64[i].get<std::string>()) : std::nullopt;
      if (!t) return bad("tags");
      m.tags.push_back(std::move(*t));
    } else if (tags[i].is_string()) {
      m.tags.push_back(tags[i].get<std::string>());
    }
  }
  for (const json& w : mj.value("warnings", json::array())) {
    m.warnings.push_back({field(w, "path"), field(w, "message")});
  }
  if (field.bad_b64) return bad("base64");
  if (l.version >= 3) {
    const json& entries = mj.value("entries", json::object());
    if (!entries.is_object() || !AppendHexIds(entries.value("pages", json::array()), &m.pages)) {
      return bad("entry pages");
    }
    m.entry_count = entries.value("count", uint64_t{0});
    // Every page is in the keyless blob list, or a server could collect it as garbage.
    const uint8_t* list = b.data() + l.blobs_offset;
    for (const crypto::Hash& p : m.pages) {
      size_t lo = 0, hi = l.blob_count;
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (std::memcmp(list + 32 * mid, p.data(), 32) < 0)
          lo = mid + 1;
        else
          hi = mid;
      }
      if (lo == l.blob_count || std::memcmp(list + 32 * lo, p.data(), 32) != 0) {
        return bad("entry page not referenced");
      }
    }
    return m;
  }
  for (const json& j : mj.value("entries", json::array())) {
    SnapshotEntry e;
    if (auto why = EntryFromJson(j, field, &e)) return bad(*why);
    for (const json& idx : j.value("blobs", json::array())) {
      if (!idx.is_number_unsigned() || idx.get<uint64_t>() >= l.blob_count) return bad("blob index");
      crypto::Hash h;
      std::memcpy(h.data(), b.data() + l.blobs_offset + 32 * idx.get<uint64_t>(), 32);
      e.blobs.push_back(h);
    }
    m.entries.push_back(std::move(e));
  }
  m.entry_count = m.entries.size();
  return m;
}

Result<SnapshotMeta> OpenSnapshotMeta(const RepoKeys& keys, const std::string& id, ByteView bytes) {
  try {
    return OpenSnapshotMetaUnchecked(keys, id, bytes);
  } catch (const json::exception&) {
    return WrongType(id);
  }
}

}  // namespace kura
