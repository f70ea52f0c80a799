// A first check of the Windows build under Wine (docs/adr/0007-windows-build.md): what
// kura_util and kura_crypto do on Windows, without GoogleTest (not in the MinGW cache
// yet). Prints one line per check and "N passed, N failed"; exits non-zero on a failure.
// Built only by cmake/Windows.cmake; run with `ctest --test-dir build-win` (Wine).
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <windows.h>
// after windows.h: WIN32_LEAN_AND_MEAN leaves it out
#include <shellapi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crypto/crypto.h"
#include "util/beneath.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/process.h"
#include "util/sparse.h"
#include "util/win/wide.h"

namespace {

int passed = 0;
int failed = 0;

void Check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  (ok ? passed : failed)++;
}

bool RoundTrips(const std::wstring& w) {
  auto back = kura::win::WideName(kura::win::NarrowName(w));
  return back && *back == w;
}

}  // namespace

// The child side of the process checks: echoes its arguments (as the Windows command line
// splits them, in UTF-8), one per line, copies stdin to stderr and exits with 7.
int Child() {
  ::_setmode(::_fileno(stdout), _O_BINARY);  // "\n" as written, not "\r\n"
  int argc = 0;
  wchar_t** wargv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
  std::string out;
  for (int i = 2; i < argc; ++i) out += kura::win::NarrowName(wargv[i]) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  char buf[256];
  DWORD n = 0;
  while (::ReadFile(::GetStdHandle(STD_INPUT_HANDLE), buf, sizeof buf, &n, nullptr) && n > 0) {
    DWORD w = 0;
    ::WriteFile(::GetStdHandle(STD_ERROR_HANDLE), buf, n, &w, nullptr);
  }
  const char* secret = std::getenv("KURA_PASSWORD");
  const char* given = std::getenv("SMOKE_GIVEN");
  std::printf("secret=%s given=%s\n", secret ? "leaked" : "none", given ? given : "none");
  return 7;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0) return Child();
  using kura::win::NarrowName;
  using kura::win::WideName;
  using kura::win::WidePath;

  // Names: Japanese, a pair outside the BMP, and lone surrogates (NTFS allows them).
  Check(NarrowName(L"\u65e5\u672c\u8a9e.txt") == "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt",
        "UTF-16 to UTF-8");
  Check(RoundTrips(L"\u65e5\u672c\u8a9e"), "Japanese round trip");
  Check(RoundTrips(std::wstring(L"a\xD83D\xDE00z")), "surrogate pair round trip");
  Check(NarrowName(std::wstring(L"\xD83D\xDE00")) == "\xf0\x9f\x98\x80", "pair is one 4-byte sequence");
  Check(RoundTrips(std::wstring(L"x\xD800y")), "lone high surrogate round trip");
  Check(RoundTrips(std::wstring(L"x\xDC00")), "lone low surrogate round trip");
  Check(RoundTrips(std::wstring(L"\xDC00\xD800")), "low then high round trip");
  Check(!WideName("\xed\xa0\xbd\xed\xb8\x80"), "pair spelled as two surrogates is refused");
  Check(!WideName("\xc0\xaf"), "overlong refused");
  Check(!WideName("\xe6\x97"), "truncated refused");
  Check(WidePath("C:/kura/x") == std::wstring(L"\\\\?\\C:\\kura\\x"), "drive path gets \\\\?\\");
  Check(WidePath("\\\\srv\\share\\x") == std::wstring(L"\\\\?\\UNC\\srv\\share\\x"),
        "UNC path gets \\\\?\\UNC");
  Check(WidePath("rel/x") == std::wstring(L"rel\\x"), "relative path keeps its form");

  // Files: a Japanese directory and file name under the temp directory.
  wchar_t tmp[MAX_PATH];
  DWORD n = ::GetTempPathW(MAX_PATH, tmp);
  std::string base = NarrowName(std::wstring(tmp, n)) + "kura-smoke-\xe6\x97\xa5\xe6\x9c\xac";
  std::string dir = base + "\\a\\b";
  Check(kura::MakeDirs(dir).ok(), "MakeDirs with a Japanese name");
  std::string file = dir + "\\\xe8\x94\xb5.txt";
  const std::string text = "kura \xe8\x94\xb5";
  Check(kura::WriteFileAtomic(file, kura::AsBytes(text)).ok(), "WriteFileAtomic");
  Check(kura::WriteFileAtomic(file, kura::AsBytes(text)).ok(), "WriteFileAtomic replaces");
  auto read = kura::ReadTextFile(file);
  Check(read.ok() && *read == text, "ReadTextFile reads it back");
  Check(kura::PathExists(file) && !kura::PathExists(dir + "\\missing"), "PathExists");
  auto missing = kura::ReadFile(dir + "\\missing");
  Check(!missing.ok() && missing.status().code() == kura::Code::kNotFound, "missing file is kNotFound");
  Check(kura::SyncDir(dir).ok(), "SyncDir");

  // Sparse files: 64 KiB of data, a 1 MiB hole, 5 bytes of data, a trailing hole.
  std::string sparse_path = dir + "\\sparse.bin";
  auto wide_sparse = WidePath(sparse_path);
  ::_wunlink(wide_sparse->c_str());  // from an earlier run
  int wfd = ::_wopen(wide_sparse->c_str(), _O_CREAT | _O_EXCL | _O_WRONLY | _O_BINARY, _S_IREAD | _S_IWRITE);
  kura::Bytes expect(64 << 10, 0x5a);
  expect.resize(expect.size() + (1 << 20), 0);
  for (int i = 0; i < 5; ++i) expect.push_back(static_cast<uint8_t>('a' + i));
  expect.resize(expect.size() + 10000, 0);
  bool wrote = false;
  if (wfd >= 0) {
    kura::SparseFdWriter writer(wfd, sparse_path);
    wrote = writer.Write(expect.data(), 1000).ok() &&
            writer.Write(expect.data() + 1000, expect.size() - 1000).ok() && writer.Finish().ok() &&
            writer.size() == expect.size();
    ::_close(wfd);
  }
  Check(wrote, "SparseFdWriter writes and sets the size");
  int rfd = ::_wopen(wide_sparse->c_str(), _O_RDONLY | _O_BINARY);
  kura::Bytes got;
  if (rfd >= 0) {
    std::printf("     (file has holes: %s)\n",
                kura::FileHasHoles(rfd, static_cast<off_t>(expect.size())) ? "yes" : "no");
    kura::SparseFileReader reader(rfd, sparse_path);
    uint8_t buf[7000];
    for (;;) {
      auto r = reader.Read(buf, sizeof buf);
      if (!r.ok() || *r == 0) break;
      got.insert(got.end(), buf, buf + *r);
    }
  }
  Check(got == expect, "SparseFileReader reads the same bytes back");

  // Opening directories beneath a root without following links.
  HANDLE root_h = ::CreateFileW(WidePath(base)->c_str(), FILE_LIST_DIRECTORY | FILE_TRAVERSE,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  kura::UniqueFd root(
      root_h == INVALID_HANDLE_VALUE ? -1 : ::_open_osfhandle(reinterpret_cast<intptr_t>(root_h), 0));
  Check(root.valid(), "root directory as an fd");
  kura::UniqueFd ab(kura::OpenDirBeneath(root.get(), "a/b"));
  Check(ab.valid(), "OpenDirBeneath a/b");
  Check(kura::OpenDirBeneath(root.get(), "a/missing") < 0 && errno == ENOENT, "missing component is ENOENT");
  Check(kura::OpenDirBeneath(root.get(), "a/../a") < 0 && errno == EINVAL, "\"..\" is EINVAL");
  Check(kura::OpenDirBeneath(root.get(), "a/b/sparse.bin") < 0 && errno == ENOTDIR, "a file is ENOTDIR");
  std::wstring link = *WidePath(base + "\\link");
  ::RemoveDirectoryW(link.c_str());
  // Wine 8's CreateSymbolicLinkW reports success but makes nothing, so the check runs only
  // where a reparse point really exists (real Windows; docs/windows-port.md).
  bool made =
      ::CreateSymbolicLinkW(link.c_str(), WidePath(dir)->c_str(),
                            SYMBOLIC_LINK_FLAG_DIRECTORY | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
  DWORD link_attrs = ::GetFileAttributesW(link.c_str());
  if (made && link_attrs != INVALID_FILE_ATTRIBUTES && (link_attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
    Check(kura::OpenDirBeneath(root.get(), "link") < 0 && errno == ELOOP, "a symbolic link is ELOOP");
  } else {
    std::printf("     (no symbolic link could be made here: ELOOP not checked)\n");
  }

  // Child processes: arguments that need quoting come back exactly, stdin reaches the
  // child, stderr is collected, kura's secrets do not reach it, the exit code is kept.
  wchar_t self[MAX_PATH];
  DWORD self_len = ::GetModuleFileNameW(nullptr, self, MAX_PATH);
  ::SetEnvironmentVariableW(L"KURA_PASSWORD", L"hunter2");
  kura::ProcessOptions child;
  const std::vector<std::string> args = {
      "plain", "two words", "q\"uote", "trail\\", "back\\\"q", "", "\xe6\x97\xa5\xe6\x9c\xac"};
  child.argv = {NarrowName(std::wstring(self, self_len)), "--child"};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.env = {{"SMOKE_GIVEN", "yes"}};
  child.pipe_stdin = true;
  auto started = kura::Process::Start(child);
  Check(started.ok(), "Process::Start");
  if (started.ok()) {
    auto& proc = **started;
    Check(proc.Stdin().Write(reinterpret_cast<const uint8_t*>("to stderr"), 9).ok(),
          "write to the child's stdin");
    proc.CloseStdin();
    std::string out;
    uint8_t buf[512];
    for (;;) {
      auto r = proc.Stdout().Read(buf, sizeof buf);
      if (!r.ok() || *r == 0) break;
      out.append(reinterpret_cast<const char*>(buf), *r);
    }
    auto code = proc.Wait();
    std::string want;
    for (const auto& a : args) want += a + "\n";
    if (out.rfind(want, 0) != 0) std::printf("     got:\n%s     want:\n%s", out.c_str(), want.c_str());
    Check(out.rfind(want, 0) == 0, "arguments arrive exactly (quoting)");
    Check(out.find("secret=none given=yes") != std::string::npos, "secrets dropped, env given");
    Check(code.ok() && *code == 7, "exit code");
    Check(proc.StderrTail() == "to stderr", "stderr collected");
  }
  auto missing_program = kura::RunProcess({.argv = {"kura-no-such-program"}});
  Check(!missing_program.ok() && missing_program.status().code() == kura::Code::kNotFound,
        "missing program is kNotFound");
  Check(!kura::FindInPath("cmd").empty(), "FindInPath finds cmd.exe");

  // Clock.
  int64_t t = 0;
  Check(kura::FormatUtc(1767225600) == "2026-01-01T00:00:00Z", "FormatUtc");
  Check(kura::ParseUtc("2026-01-01T00:00:00Z", &t) && t == 1767225600, "ParseUtc");

  // Crypto: OpenSSL and libsodium from the cache.
  Check(kura::ToHex(kura::crypto::Sha256(kura::AsBytes("abc"))) ==
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "SHA-256 (OpenSSL)");
  auto key = kura::crypto::SecretKey::Random();
  auto sealed = kura::crypto::Seal(key, kura::AsBytes(text), kura::AsBytes("aad"));
  auto opened = kura::crypto::Open(key, sealed, kura::AsBytes("aad"));
  Check(opened.ok() && kura::AsString(*opened) == text, "AES-256-GCM round trip");
  auto pair = kura::crypto::GenerateBoxKeyPair();
  auto boxed = kura::crypto::SealedBoxSeal(pair.public_key, kura::AsBytes(text));
  auto unboxed = boxed.ok() ? kura::crypto::SealedBoxOpen(pair.public_key, pair.secret_key, *boxed)
                            : kura::Result<kura::Bytes>(boxed.status());
  Check(unboxed.ok() && kura::AsString(*unboxed) == text, "X25519 sealed box (libsodium)");
  kura::Bytes salt(16, 7);
  auto derived = kura::crypto::Argon2id("password", salt, {1, 8u << 20});
  Check(derived.ok(), "Argon2id (libsodium)");

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
