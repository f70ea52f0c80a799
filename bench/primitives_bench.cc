// Throughput of the primitives on the backup hot path: hashing, MAC, AEAD, chunking and
// compression, each per byte of input. A baseline for the pipeline's budget: a chunk passes
// through Cut, HMAC (blob ID), zstd and Seal once each, and the pack through SHA-256.
//
//   build/bin/primitives_bench [--benchmark_filter=Zstd]
#include <benchmark/benchmark.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string>

#include "chunker/chunker.h"
#include "crypto/crypto.h"

namespace kura {
namespace {

constexpr size_t kMiB = 1 << 20;

Bytes RandomData(size_t n) {
  std::mt19937_64 rng(42);
  Bytes out(n);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

// Text shaped like a database dump: repeated statements, a small vocabulary, changing
// numbers and dates. zstd compresses it about 6:1, within the range seen on real SQL dumps.
Bytes DumpLikeText(size_t n) {
  static const char* const kNames[] = {"山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村",
                                       "小林", "加藤", "吉田", "山本", "松本", "井上", "木村", "林"};
  static const char* const kWords[] = {"定期受診", "服薬指導",  "血圧測定",   "入浴介助", "リハビリ",
                                       "fever",    "follow-up", "discharged", "referral", "normal"};
  std::mt19937_64 rng(7);
  std::string s;
  s.reserve(n + 256);
  while (s.size() < n) {
    s += "INSERT INTO visits VALUES (";
    s += std::to_string(rng() % 1000000);
    s += ", '";
    s += kNames[rng() % 16];
    s += "', '2026-";
    s += std::to_string(1 + rng() % 12);
    s += "-";
    s += std::to_string(1 + rng() % 28);
    s += "', '";
    s += kWords[rng() % 10];
    s += "', ";
    s += std::to_string(90 + rng() % 80);
    s += ");\n";
  }
  s.resize(n);
  return Bytes(s.begin(), s.end());
}

void BM_Sha256(benchmark::State& state) {
  Bytes data = RandomData(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Sha256(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(4 << 10)->Arg(kMiB);

void BM_HmacSha256(benchmark::State& state) {
  crypto::SecretKey key = crypto::SecretKey::Random();
  Bytes data = RandomData(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crypto::HmacSha256(key, data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HmacSha256)->Arg(4 << 10)->Arg(kMiB);

void BM_Aes256GcmSeal(benchmark::State& state) {
  crypto::SecretKey key = crypto::SecretKey::Random();
  Bytes data = RandomData(static_cast<size_t>(state.range(0)));
  Bytes out;
  out.reserve(data.size() + crypto::kSealOverhead);
  for (auto _ : state) {
    out.clear();
    crypto::SealAppend(key, data, {}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Aes256GcmSeal)->Arg(4 << 10)->Arg(kMiB);

void BM_Aes256GcmOpen(benchmark::State& state) {
  crypto::SecretKey key = crypto::SecretKey::Random();
  Bytes sealed = crypto::Seal(key, RandomData(kMiB), {});
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Open(key, sealed, {}));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMiB));
}
BENCHMARK(BM_Aes256GcmOpen);

// Splits 64 MiB of random data with the default parameters, as the backup pipeline does.
void BM_ChunkerCut(benchmark::State& state) {
  Chunker chunker(crypto::SecretKey::Random(), DefaultChunkerParams());
  Bytes data = RandomData(64 * kMiB);
  size_t chunks = 0;
  for (auto _ : state) {
    chunks = 0;
    for (size_t off = 0; off < data.size(); ++chunks) off += chunker.Cut(ByteView(data).subspan(off));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.counters["mean_chunk_KiB"] = static_cast<double>(data.size()) / static_cast<double>(chunks) / 1024;
}
BENCHMARK(BM_ChunkerCut)->Unit(benchmark::kMillisecond);

void BM_ZstdCompress(benchmark::State& state) {
  int level = static_cast<int>(state.range(0));
  Bytes text = DumpLikeText(kMiB);
  Bytes out(ZSTD_compressBound(text.size()));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t n = 0;
  for (auto _ : state) {
    n = ZSTD_compressCCtx(cctx, out.data(), out.size(), text.data(), text.size(), level);
    if (ZSTD_isError(n)) state.SkipWithError(ZSTD_getErrorName(n));
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["ratio"] = static_cast<double>(text.size()) / static_cast<double>(n);
}
BENCHMARK(BM_ZstdCompress)->Arg(1)->Arg(3);

void BM_ZstdDecompress(benchmark::State& state) {
  Bytes text = DumpLikeText(kMiB);
  Bytes compressed(ZSTD_compressBound(text.size()));
  compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), text.data(), text.size(), 3));
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  Bytes out(text.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ZSTD_decompressDCtx(dctx, out.data(), out.size(), compressed.data(), compressed.size()));
  }
  ZSTD_freeDCtx(dctx);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ZstdDecompress);

}  // namespace
}  // namespace kura

BENCHMARK_MAIN();
