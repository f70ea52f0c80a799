// chunk_sizes: how kura's chunk-size parameters trade chunk count against dedup on real
// consecutive backups. Chunks two files (yesterday's and today's dump) with kura::Chunker
// under a fixed key and, for each (min,avg,max) triple, reports the bytes of today's chunks
// that yesterday's chunks do not already hold: what a night adds to a repository before
// and after zstd level 3 (kura's default level).
//
//   chunk_sizes NIGHT1 NIGHT2 [MIN,AVG,MAX ...]     sizes take K/M suffixes: 512K,1M,8M
//   chunk_sizes --json ...                           one JSON object per triple
//
// Results for the benchmark datasets are in docs/benchmarks.md (bench/run.sh runs this).
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "chunker/chunker.h"
#include "crypto/crypto.h"
#include "util/bytes.h"

namespace {

using kura::ByteView;
using kura::ChunkerParams;
using kura::crypto::Hash;

struct HashOfHash {
  size_t operator()(const Hash& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);  // a SHA-256 is already uniform
    return v;
  }
};
using HashSet = std::unordered_set<Hash, HashOfHash>;

struct FileStats {
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  uint64_t new_chunks = 0;      // distinct chunks absent from the reference set
  uint64_t new_bytes = 0;       // their plaintext bytes
  uint64_t new_zstd_bytes = 0;  // their bytes after zstd level 3, chunk by chunk
};

bool ParseSize(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  uint64_t mult = 1;
  char last = s.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (mult != 1) s.remove_suffix(1);
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > (1ull << 32)) return false;
  }
  v *= mult;
  if (v == 0 || v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool ParseTriple(std::string_view s, ChunkerParams& p) {
  size_t a = s.find(','), b = s.rfind(',');
  if (a == std::string_view::npos || a == b) return false;
  return ParseSize(s.substr(0, a), p.min_size) && ParseSize(s.substr(a + 1, b - a - 1), p.avg_size) &&
         ParseSize(s.substr(b + 1), p.max_size) && p.Valid();
}

std::string Human(uint64_t n) {
  char buf[32];
  if (n % (1024 * 1024) == 0) {
    std::snprintf(buf, sizeof buf, "%lluM", static_cast<unsigned long long>(n >> 20));
  } else if (n % 1024 == 0) {
    std::snprintf(buf, sizeof buf, "%lluK", static_cast<unsigned long long>(n >> 10));
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

// Streams `path` through the chunker. With `reference` null, records every chunk hash in
// `seen`; otherwise counts chunks absent from `reference` (each distinct one once, as a
// repository stores it once). Returns false on an I/O error (already reported).
bool ChunkFile(const char* path, const kura::Chunker& chunker, const HashSet* reference, HashSet& seen,
               FileStats& st, ZSTD_CCtx* zctx) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "chunk_sizes: cannot open %s: %s\n", path, std::strerror(errno));
    return false;
  }
  const size_t max = chunker.params().max_size;
  kura::Bytes buf(std::max<size_t>(4 * max, 16u << 20));
  kura::Bytes zbuf;
  size_t begin = 0, end = 0;
  bool eof = false;
  for (;;) {
    if (!eof && end - begin < max) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
      while (end < buf.size()) {
        size_t n = std::fread(buf.data() + end, 1, buf.size() - end, f);
        if (n == 0) break;
        end += n;
      }
      if (std::ferror(f)) {
        std::fprintf(stderr, "chunk_sizes: cannot read %s: %s\n", path, std::strerror(errno));
        std::fclose(f);
        return false;
      }
      eof = end < buf.size();
    }
    if (begin == end) break;
    ByteView rest(buf.data() + begin, end - begin);
    size_t len = chunker.Cut(rest);
    ByteView chunk = rest.first(len);
    Hash h = kura::crypto::Sha256(chunk);
    ++st.chunks;
    st.bytes += len;
    if (reference == nullptr) {
      seen.insert(h);
    } else if (!reference->contains(h) && seen.insert(h).second) {
      ++st.new_chunks;
      st.new_bytes += len;
      zbuf.resize(ZSTD_compressBound(len));
      size_t z = ZSTD_compressCCtx(zctx, zbuf.data(), zbuf.size(), chunk.data(), len, 3);
      st.new_zstd_bytes += ZSTD_isError(z) ? len : std::min(z, len);
    }
    begin += len;
  }
  std::fclose(f);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::vector<const char*> files;
  std::vector<ChunkerParams> triples;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json") {
      json = true;
    } else if (files.size() < 2) {
      files.push_back(argv[i]);
    } else {
      ChunkerParams p;
      if (!ParseTriple(a, p)) {
        std::fprintf(stderr, "chunk_sizes: bad triple '%s' (want MIN,AVG,MAX, avg a power of two)\n",
                     argv[i]);
        return 2;
      }
      triples.push_back(p);
    }
  }
  if (files.size() != 2) {
    std::fprintf(stderr, "usage: chunk_sizes [--json] NIGHT1 NIGHT2 [MIN,AVG,MAX ...]\n");
    return 2;
  }
  if (triples.empty()) {
    for (const char* t :
         {"16K,64K,256K", "32K,128K,512K", "64K,256K,2M", "128K,512K,4M", "256K,1M,4M", "512K,1M,8M"}) {
      ChunkerParams p;
      ParseTriple(t, p);
      triples.push_back(p);
    }
  }

  // A fixed key keeps the runs reproducible; boundaries under another key differ in detail
  // but not in their statistics.
  kura::Bytes key_bytes(kura::crypto::kKeySize);
  for (size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = static_cast<uint8_t>(0x6b + i);
  const kura::crypto::SecretKey key{ByteView(key_bytes)};

  ZSTD_CCtx* zctx = ZSTD_createCCtx();
  if (!json) {
    std::printf("%-16s %10s %10s %10s %14s %14s %8s %14s\n", "min,avg,max", "chunks1", "chunks2", "avg_size",
                "new_chunks", "new_bytes", "new_%", "new_zstd3");
  }
  int rc = 0;
  for (const ChunkerParams& p : triples) {
    kura::Chunker chunker(key, p);
    HashSet night1, night2_new;
    FileStats s1, s2;
    if (!ChunkFile(files[0], chunker, nullptr, night1, s1, zctx) ||
        !ChunkFile(files[1], chunker, &night1, night2_new, s2, zctx)) {
      rc = 1;
      break;
    }
    std::string name = Human(p.min_size) + "," + Human(p.avg_size) + "," + Human(p.max_size);
    double avg = s2.chunks ? static_cast<double>(s2.bytes) / static_cast<double>(s2.chunks) : 0;
    double pct = s2.bytes ? 100.0 * static_cast<double>(s2.new_bytes) / static_cast<double>(s2.bytes) : 0;
    if (json) {
      std::printf(
          "{\"min\":%u,\"avg\":%u,\"max\":%u,\"night1_bytes\":%llu,\"night2_bytes\":%llu,"
          "\"chunks1\":%llu,\"chunks2\":%llu,\"avg_chunk\":%.0f,\"new_chunks\":%llu,"
          "\"new_bytes\":%llu,\"new_zstd3_bytes\":%llu}\n",
          p.min_size, p.avg_size, p.max_size, static_cast<unsigned long long>(s1.bytes),
          static_cast<unsigned long long>(s2.bytes), static_cast<unsigned long long>(s1.chunks),
          static_cast<unsigned long long>(s2.chunks), avg, static_cast<unsigned long long>(s2.new_chunks),
          static_cast<unsigned long long>(s2.new_bytes), static_cast<unsigned long long>(s2.new_zstd_bytes));
    } else {
      std::printf("%-16s %10llu %10llu %10.0f %14llu %14llu %7.2f%% %14llu\n", name.c_str(),
                  static_cast<unsigned long long>(s1.chunks), static_cast<unsigned long long>(s2.chunks), avg,
                  static_cast<unsigned long long>(s2.new_chunks),
                  static_cast<unsigned long long>(s2.new_bytes), pct,
                  static_cast<unsigned long long>(s2.new_zstd_bytes));
    }
    std::fflush(stdout);
  }
  ZSTD_freeCCtx(zctx);
  return rc;
}
