#include "cli/vault_grant.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/vault_client.h"
#include "agent/vault_read_store.h"
#include "repo/keys.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura::cli {

using nlohmann::json;

namespace {

constexpr std::string_view kGrantPrefix = "kgr1_";
constexpr std::string_view kGrantFileKind = "kura-restore-grant";
constexpr size_t kMaxGrantFileBytes = size_t{16} * 1024;

Status BadGrantFile(std::string_view why_ja, std::string_view why_en) {
  return Status::InvalidArgument(
      Tr("復元の許可のファイルが読めません ({})。kura-vault grant issue --output "
         "で作ったファイルを渡してください",
         "the restore grant file does not parse ({}); give the file kura-vault grant issue --output made",
         CurrentLanguage() == Language::kEnglish ? why_en : why_ja));
}

bool LooksLikeToken(std::string_view text) {
  return text.find(kGrantPrefix) != std::string_view::npos;
}

bool ValidToken(std::string_view t) {
  if (!t.starts_with(kGrantPrefix) || t.size() < kGrantPrefix.size() + 16 || t.size() > 256) return false;
  return t.find_first_of(" \t\r\n\"\\") == std::string_view::npos;
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// The grant's text from a file, standard input or KURA_GRANT_FILE; never from argv.
Result<std::string> ReadGrantText(const std::string& source) {
  if (LooksLikeToken(source)) {
    return Status::InvalidArgument(
        L("復元の許可をコマンド行に書かないでください (ほかの利用者に見えます)。ファイルに保存して --grant "
          "ファイル名 とするか、--grant - で標準入力から渡してください",
          "do not put the restore grant on the command line (other users can see it); save it in a file and "
          "give --grant FILE, or pass it on standard input with --grant -"));
  }
  std::string path = source;
  if (path.empty()) {
    if (const char* env = std::getenv("KURA_GRANT_FILE"); env != nullptr && *env != '\0') path = env;
  }
  if (path.empty()) {
    return Status::InvalidArgument(L(
        "復元の許可が指定されていません。--grant ファイル名、--grant - (標準入力) か環境変数 KURA_GRANT_FILE "
        "で渡してください",
        "no restore grant given; use --grant FILE, --grant - (standard input) or env KURA_GRANT_FILE"));
  }
  if (path == "-") {
    std::string text;
    char buf[4096];
    while (text.size() <= kMaxGrantFileBytes) {
      std::cin.read(buf, sizeof buf);
      if (std::cin.gcount() <= 0) break;
      text.append(buf, static_cast<size_t>(std::cin.gcount()));
    }
    if (Trimmed(text).empty()) {
      return Status::InvalidArgument(
          L("標準入力に復元の許可がありません", "no restore grant on standard input"));
    }
    return text;
  }
  // Like the site credential: a grant others could read is refused, not only warned about
  // (it may have been read already: ask for a new one).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Status::PermissionDenied(
        Tr("復元の許可のファイル {} がほかの利用者から読めます (モード {:o})。chmod 600 {} としてから"
           "やり直してください。ほかの人が読んだおそれがあれば、新しい許可を発行してもらってください",
           "the restore grant file {} can be read by other users (mode {:o}); run chmod 600 {} and try "
           "again, or ask for a new grant if someone else may have read it",
           path, st.st_mode & 0777, path));
  }
  return ReadTextFile(path);
}

}  // namespace

Result<GrantFile> ParseGrantFile(std::string_view raw) {
  if (raw.size() > kMaxGrantFileBytes) return BadGrantFile("大きすぎます", "too large");
  std::string text = Trimmed(raw);
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  GrantFile g;
  if (!text.starts_with("{")) {
    if (!ValidToken(text))
      return BadGrantFile("JSON でも kgr1_ の許可でもありません", "neither JSON nor a kgr1_ grant");
    g.token = text;
    return g;
  }
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return BadGrantFile("JSON の形が正しくありません", "malformed JSON");
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer())
    return BadGrantFile("version がありません", "no version");
  if (version->get<int64_t>() != 1) {
    return Status::Unsupported(Tr(
        "復元の許可のファイルの版 {} はこの kura では読めません。kura を更新してください",
        "this kura cannot read version {} of the restore grant file; update kura", version->get<int64_t>()));
  }
  if (str("kind") != kGrantFileKind) return BadGrantFile("kind が違います", "wrong kind");
  g.token = str("grant");
  if (!ValidToken(g.token))
    return BadGrantFile("grant がないか正しくありません", "grant missing or malformed");
  g.vault = str("vault");
  if (std::string fp = str("fingerprint"); !fp.empty()) {
    auto parsed = net::Fingerprint::Parse(fp);
    if (!parsed.ok()) return BadGrantFile("fingerprint が読めません", "fingerprint does not parse");
    g.fingerprint = *parsed;
  }
  g.snapshot = str("snapshot");
  g.repository = str("repository");
  if (std::string e = str("expires"); !e.empty() && !ParseUtc(e, &g.expires)) {
    return BadGrantFile("expires が読めません", "expires does not parse");
  }
  return g;
}

void AddGrantOptions(CLI::App* command, GrantFlags* f) {
  command->add_option("--vault", f->vault,
                      L("復元の許可で読む保管庫の URL (https://ホスト:ポート、既定は許可のファイルのもの)",
                        "the vault to read through a restore grant (https://host:port; default: the grant "
                        "file's)"));
  command->add_option(
      "--grant", f->grant,
      L("復元の許可のファイル (- で標準入力、環境変数 KURA_GRANT_FILE)。許可自体はコマンド行に"
        "書かないでください",
        "the restore grant file (- for standard input, env KURA_GRANT_FILE); never the grant "
        "itself"));
  command->add_option("--vault-fingerprint", f->fingerprint,
                      L("保管庫の証明書の SHA-256 (既定は許可のファイルのもの)",
                        "the vault certificate's SHA-256 (default: the grant file's)"));
}

Result<GrantedRepository> OpenGrantedRepository(const Context& ctx, const GrantFlags& f) {
  KURA_ASSIGN_OR_RETURN(std::string text, ReadGrantText(f.grant));
  Result<GrantFile> parsed = ParseGrantFile(text);
  std::fill(text.begin(), text.end(), '\0');
  KURA_RETURN_IF_ERROR(parsed.status());
  GrantFile grant = std::move(*parsed);
  struct Wipe {
    std::string& s;
    ~Wipe() { std::fill(s.begin(), s.end(), '\0'); }
  } wipe{grant.token};

  GrantedRepository out;
  out.url = !f.vault.empty() ? f.vault : grant.vault;
  while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
  if (out.url.empty()) {
    return Status::InvalidArgument(
        L("保管庫の URL がありません。--vault https://ホスト:ポート を指定してください",
          "no vault URL; give --vault https://host:port"));
  }
  if (!out.url.starts_with("https://")) {
    return Status::InvalidArgument(Tr("保管庫の URL \"{}\" は https:// で始めてください",
                                      "the vault URL \"{}\" must start with https://", out.url));
  }
  net::Fingerprint pin;
  if (!f.fingerprint.empty()) {
    auto fp = net::Fingerprint::Parse(f.fingerprint);
    if (!fp.ok()) {
      return Status::InvalidArgument(L("--vault-fingerprint が読めません (64 桁の 16 進)",
                                       "--vault-fingerprint does not parse (64 hex digits)"));
    }
    pin = *fp;
  } else if (grant.fingerprint) {
    pin = *grant.fingerprint;
  } else {
    return Status::InvalidArgument(L(
        "保管庫の証明書の指紋がありません。kura-vault grant issue --output のファイルを使うか "
        "--vault-fingerprint を指定してください",
        "no fingerprint of the vault's certificate; use the file of kura-vault grant issue --output or give "
        "--vault-fingerprint"));
  }

  // The recovery key before the grant: a grant is used up by redeeming it.
  std::string recovery = ctx.opts.recovery_key_file;
  if (recovery.empty()) {
    if (const char* env = std::getenv("KURA_RECOVERY_KEY_FILE"); env != nullptr) recovery = env;
  }
  if (recovery.empty()) {
    return Status::InvalidArgument(L(
        "復元の許可で読むには販売元の復旧用秘密鍵が要ります。--recovery-key-file で指定してください",
        "reading through a restore grant needs the vendor's recovery secret key; give --recovery-key-file"));
  }
  KURA_RETURN_IF_ERROR(ReadKeyFile(recovery).status());
  KURA_ASSIGN_OR_RETURN(Credentials creds, ctx.LoadCredentials(false));

  VaultOptions vo;
  vo.url = out.url;
  vo.pin = pin;
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> client, VaultClient::Create(std::move(vo)));
  KURA_ASSIGN_OR_RETURN(RestoreSessionInfo session, client->RedeemGrant(grant.token));
  struct WipeSession {
    std::string& s;
    ~WipeSession() { std::fill(s.begin(), s.end(), '\0'); }
  } wipe_session{session.session};

  VaultReadOptions ro;
  ro.url = out.url;
  ro.pin = pin;
  ro.session = session.session;
  ro.repository = session.repository;
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultReadStore> store, VaultReadStore::Open(std::move(ro)));
  KURA_ASSIGN_OR_RETURN(out.repo, Repository::Open(std::move(store), creds));
  out.snapshot = session.snapshot;
  return out;
}

}  // namespace kura::cli
