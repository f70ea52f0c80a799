#include <sodium.h>

#include <cerrno>
#include <cstdio>

#include "cli/clock_warning.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/vault_commands.h"
#include "engine/backup.h"
#include "objstore/object_store.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/secret_file.h"
#include "util/text.h"

namespace kura::cli {

using nlohmann::json;

static json SnapshotJson(const Snapshot& s) {
  return json{{"id", s.id},
              {"short_id", ShortId(s.id)},
              {"kind", KindName(s.plain.kind)},
              {"time", FormatUtc(s.plain.time)},
              {"bytes", s.plain.bytes},
              {"entries", s.plain.entries},
              {"stored_new", s.plain.stored_new},
              {"blobs", s.blobs.size()}};
}

static int Init(Context& ctx) {
  auto location = ctx.RepositoryLocation();
  if (!location.ok()) return Fail(ctx, location.status());
  auto creds = ctx.LoadCredentials(/*confirm=*/true);
  if (!creds.ok()) return Fail(ctx, creds.status());
  auto store = OpenObjectStore(*location, /*create=*/true);
  if (!store.ok()) return Fail(ctx, store.status());
  InitOptions options;
  options.host = LocalHostname();
  auto repo = Repository::Init(std::move(*store), *creds, options, SystemClock());
  if (!repo.ok()) return Fail(ctx, repo.status());
  const RepoConfig& c = (*repo)->config();
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"repository", *location},
               {"id", c.id},
               {"chunker",
                {{"min", c.chunker.min_size}, {"avg", c.chunker.avg_size}, {"max", c.chunker.max_size}}}});
  }
  ctx.Say(
      Tr("リポジトリを作成しました: {} (ID {})\nパスワード (または鍵ファイル) "
         "を失うとバックアップを復元できません。"
         "安全な場所に保管し、販売元の復旧用鍵の登録 (kura key add-recovery) もご検討ください。",
         "Created repository {} (ID {})\nWithout the password (or key file) the backups cannot be restored: "
         "keep "
         "it safe, and consider registering the vendor's recovery key (kura key add-recovery).",
         *location, c.id.substr(0, 8)));
  return kExitOk;
}

static int Snapshots(Context& ctx) {
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  std::vector<std::string> damaged;
  auto snaps = (*repo)->ListSnapshots(&damaged, /*with_blobs=*/false);
  if (!snaps.ok()) return Fail(ctx, snaps.status());
  WarnIfClockBehind(*snaps, SystemClock());
  if (ctx.opts.json) {
    json arr = json::array();
    for (const Snapshot& s : *snaps) {
      json j = SnapshotJson(s);
      j["damaged"] = false;
      arr.push_back(std::move(j));
    }
    // A damaged snapshot object is listed too, so it can be seen and forgotten (moved aside).
    for (const std::string& d : damaged)
      arr.push_back({{"id", d}, {"short_id", ShortId(d)}, {"damaged", true}});
    PrintJson(arr);
    return damaged.empty() ? kExitOk : kExitDamaged;
  }
  if (snaps->empty() && damaged.empty())
    ctx.Say(L("スナップショットはまだありません。", "No snapshots yet."));
  if (!snaps->empty() || !damaged.empty()) {
    ctx.Say(PadRight("ID", 10) + " " + PadRight(L("日時", "time"), 20) + " " +
            PadRight(L("種類", "kind"), 8) + " " + PadLeft(L("大きさ", "size"), 12) + " " +
            PadLeft(L("追加", "added"), 12));
  }
  for (const Snapshot& s : *snaps) {
    ctx.Say(PadRight(ShortId(s.id), 10) + " " + PadRight(FormatLocal(s.plain.time), 20) + " " +
            PadRight(KindLabel(s.plain.kind), 8) + " " + PadLeft(FormatBytes(s.plain.bytes), 12) + " " +
            PadLeft(FormatBytes(s.plain.stored_new), 12));
  }
  for (const std::string& d : damaged) {
    ctx.Say(PadRight(ShortId(d), 10) + " " +
            L("損傷 (スナップショットのファイルが壊れています)", "DAMAGED (the snapshot object is damaged)"));
  }
  for (const std::string& d : damaged) {
    std::fputs(Tr("kura: 警告: スナップショット {} は壊れています。kura verify で確認し、不要なら kura "
                  "forget {} で退避してください\n",
                  "kura: warning: snapshot {} is damaged; check with kura verify, and move it aside with "
                  "kura forget {}\n",
                  ShortId(d), ShortId(d))
                   .c_str(),
               stderr);
  }
  return damaged.empty() ? kExitOk : kExitDamaged;
}

static json LsEntryJson(const SnapshotEntry& e) {
  json j{{"type", e.meta.type == EntryType::kFile        ? "file"
                  : e.meta.type == EntryType::kDirectory ? "dir"
                                                         : "symlink"},
         {"mode", e.meta.mode},
         {"mtime", FormatUtc(e.meta.mtime)}};
  PutNameJson(j, "path", e.meta.path);
  if (e.meta.type == EntryType::kFile) {
    j["size"] = e.size;
    j["sha256"] = e.sha256;
  }
  if (e.meta.type == EntryType::kSymlink) PutNameJson(j, "target", e.meta.symlink_target);
  return j;
}

// Entries are printed as they are read (one entry page in memory), also as JSON: the
// document is written around the "entries" array, one element at a time.
static int Ls(Context& ctx, const std::string& ref) {
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto snap = (*repo)->FindSnapshot(ref);
  if (!snap.ok()) return Fail(ctx, snap.status());
  auto meta = (*repo)->LoadHead(snap->id);
  if (!meta.ok()) return Fail(ctx, meta.status());
  if (!meta->pages.empty()) {
    if (auto cache = (*repo)->Cache(); !cache.ok()) return Fail(ctx, cache.status());
  }
  std::unique_ptr<EntryReader> entries = (*repo)->OpenEntries(snap->id, *meta);
  SnapshotEntry e;
  if (ctx.opts.json) {
    // Names are bytes: `path` is printable, `path_b64` the exact bytes when not UTF-8
    // (docs/format.md, "Escaped names").
    json doc = SnapshotJson(*snap);
    PutNameJson(doc, "host", meta->host);
    json source = {{"kind", meta->source_kind}};
    PutNameJson(source, "name", meta->source_name);
    doc["source"] = std::move(source);
    PutNameListJson(doc, "tags", meta->tags);
    std::string head = doc.dump(-1, ' ', false, json::error_handler_t::replace);
    head.pop_back();  // the closing brace: "entries" follows
    std::string out = head + (doc.empty() ? "" : ",") + "\"entries\":[";
    bool first = true;
    for (;;) {
      auto more = entries->Next(&e);
      if (!more.ok()) {
        // What was printed is not valid JSON: say so on stderr with the code.
        std::fputs("\n", stdout);
        return Fail(ctx, more.status());
      }
      if (!*more) break;
      if (!first) out += ',';
      first = false;
      out += LsEntryJson(e).dump(-1, ' ', false, json::error_handler_t::replace);
      if (out.size() > (64u << 10)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (std::fflush(stdout) != 0) return Fail(ctx, ErrnoStatus(errno, L("書き込み", "write"), "stdout"));
    return kExitOk;
  }
  ctx.Say(Tr("スナップショット {}  {}  {}  ホスト {}  取得元 {} {}",
             "snapshot {}  {}  {}  host {}  source {} {}", ShortId(snap->id), FormatLocal(snap->plain.time),
             KindLabel(snap->plain.kind), EscapeName(meta->host), EscapeName(meta->source_kind),
             EscapeName(meta->source_name)));
  for (;;) {
    auto more = entries->Next(&e);
    if (!more.ok()) return Fail(ctx, more.status());
    if (!*more) break;
    char type = e.meta.type == EntryType::kDirectory ? 'd' : e.meta.type == EntryType::kSymlink ? 'l' : '-';
    std::string line = fmt::format("{}{:04o} {:>12} {} {}", type, e.meta.mode & 07777,
                                   e.meta.type == EntryType::kFile ? FormatBytes(e.size) : "",
                                   FormatLocal(e.meta.mtime), EscapeName(e.meta.path));
    if (e.meta.type == EntryType::kSymlink) line += " -> " + EscapeName(e.meta.symlink_target);
    ctx.Say(line);
  }
  return kExitOk;
}

static void AddKeyCommands(CLI::App& app, Context& ctx, int* exit_code) {
  CLI::App* key = app.add_subcommand("key", L("鍵 (パスワード・鍵ファイル・復旧用鍵) の管理",
                                              "manage keys (passwords, key files, recovery keys)"));
  key->require_subcommand(1);

  CLI::App* list = key->add_subcommand("list", L("鍵の一覧", "list key slots"));
  OnRun(list, ctx, exit_code, [&ctx] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    auto slots = (*repo)->ListKeys();
    if (!slots.ok()) return Fail(ctx, slots.status());
    json arr = json::array();
    for (const KeySlot& s : *slots) {
      bool current = s.id == (*repo)->opened_slot();
      arr.push_back({{"id", s.id},
                     {"kind", KeySlotKindName(s.kind)},
                     {"label", s.label},
                     {"host", s.host},
                     {"created", s.created},
                     {"current", current}});
      ctx.Say(fmt::format("{}{:<10} {:<9} {:<20} {:<16} {}", current ? "*" : " ", s.id.substr(0, 8),
                          KeySlotKindName(s.kind), s.created, s.host, s.label));
    }
    if (ctx.opts.json) PrintJson(arr);
    return static_cast<int>(kExitOk);
  });

  std::string& new_password_file = ctx.NewFlags<std::string>();
  std::string& new_key_file = ctx.NewFlags<std::string>();
  std::string& label = ctx.NewFlags<std::string>();
  std::string& public_key_file = ctx.NewFlags<std::string>();
  std::string& remove_id = ctx.NewFlags<std::string>();
  CLI::App* add =
      key->add_subcommand("add", L("パスワードまたは鍵ファイルを追加", "add a password or key file"));
  add->add_option("--new-password-file", new_password_file,
                  L("追加するパスワードを書いたファイル", "file holding the new password"));
  add->add_option(
      "--new-key-file", new_key_file,
      L("追加する鍵ファイル (無ければ作成します, 0600)", "key file to add (created if missing, mode 0600)"));
  add->add_option("--label", label, L("鍵の説明", "a label for the key"));
  OnRun(add, ctx, exit_code, [&ctx, &new_password_file, &new_key_file, &label] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    auto lock = (*repo)->store().Lock(LockMode::kExclusive, 60000);
    if (!lock.ok()) return Fail(ctx, lock.status());
    KeySlotInfo info{"", label, LocalHostname(), FormatUtc(SystemClock().NowUnix())};
    Result<std::string> id = Status::InvalidArgument("");
    if (!new_key_file.empty()) {
      if (!PathExists(new_key_file)) {
        Status st = CreateKeyFile(new_key_file);
        if (!st.ok()) return Fail(ctx, st);
      }
      auto secret = ReadKeyFile(new_key_file);
      if (!secret.ok()) return Fail(ctx, secret.status());
      id = (*repo)->AddSecretKey(KeySlotKind::kKeyFile, *secret, info);
    } else {
      Result<std::string> pw = new_password_file.empty()
                                   ? PromptSecret(L("新しいパスワード: ", "New password: "))
                                   : ReadPasswordFile(new_password_file);
      if (!pw.ok()) return Fail(ctx, pw.status());
      if (Status st = CheckNewPassword(*pw); !st.ok()) return Fail(ctx, st);
      id = (*repo)->AddSecretKey(KeySlotKind::kPassword, *pw, info);
    }
    if (!id.ok()) return Fail(ctx, id.status());
    if (ctx.opts.json) PrintJson({{"ok", true}, {"id", *id}});
    ctx.Say(Tr("鍵 {} を追加しました", "added key {}", id->substr(0, 8)));
    return static_cast<int>(kExitOk);
  });

  CLI::App* add_recovery = key->add_subcommand(
      "add-recovery", L("販売元の復旧用公開鍵を登録 (販売元が依頼に応じて復元できるようにします)",
                        "register the vendor's recovery public key (lets the vendor restore on request)"));
  add_recovery
      ->add_option("--public-key-file", public_key_file,
                   L("公開鍵ファイル (16 進 64 文字)", "public key file (64 hex digits)"))
      ->required();
  add_recovery->add_option("--label", label, L("鍵の説明", "a label for the key"));
  OnRun(add_recovery, ctx, exit_code, [&ctx, &label, &public_key_file] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    auto text = ReadKeyFile(public_key_file);
    if (!text.ok()) return Fail(ctx, text.status());
    auto pk = FromHex(*text);
    if (!pk) {
      return Fail(ctx, Status::InvalidArgument(
                           Tr("{} は公開鍵ファイルではありません (16 進 64 文字が必要です)",
                              "{} is not a public key file (64 hex digits expected)", public_key_file)));
    }
    auto lock = (*repo)->store().Lock(LockMode::kExclusive, 60000);
    if (!lock.ok()) return Fail(ctx, lock.status());
    KeySlotInfo info{"", label.empty() ? "recovery" : label, LocalHostname(),
                     FormatUtc(SystemClock().NowUnix())};
    auto id = (*repo)->AddRecoveryKey(*pk, info);
    if (!id.ok()) return Fail(ctx, id.status());
    if (ctx.opts.json) PrintJson({{"ok", true}, {"id", *id}});
    ctx.Say(Tr("復旧用鍵 {} を登録しました", "registered recovery key {}", id->substr(0, 8)));
    return static_cast<int>(kExitOk);
  });

  std::string& out_secret = ctx.NewFlags<std::string>();
  std::string& out_public = ctx.NewFlags<std::string>();
  CLI::App* gen = key->add_subcommand(
      "generate-recovery", L("復旧用の鍵ペアを作成 (販売元用。秘密鍵はオフラインで保管)",
                             "make a recovery key pair (for the vendor; keep the secret key offline)"));
  gen->add_option("--secret-key-file", out_secret,
                  L("秘密鍵の出力先 (0600)", "where to write the secret key (0600)"))
      ->required();
  gen->add_option("--public-key-file", out_public, L("公開鍵の出力先", "where to write the public key"))
      ->required();
  OnRun(gen, ctx, exit_code, [&ctx, &out_secret, &out_public] {
    if (PathExists(out_secret) || PathExists(out_public)) {
      return Fail(
          ctx, Status::AlreadyExists(L("出力先のファイルが既に存在します", "an output file already exists")));
    }
    crypto::BoxKeyPair kp = crypto::GenerateBoxKeyPair();
    std::string sk = ToHex(kp.secret_key) + "\n";
    SecureZero(kp.secret_key.data(), kp.secret_key.size());
    Status st = WriteFileAtomic(out_secret, AsBytes(sk), 0600);
    SecureZero(sk.data(), sk.size());
    if (st.ok()) st = WriteFileAtomic(out_public, AsBytes(ToHex(kp.public_key) + "\n"), 0644);
    if (!st.ok()) return Fail(ctx, st);
    if (ctx.opts.json) PrintJson({{"ok", true}, {"public_key", ToHex(kp.public_key)}});
    ctx.Say(Tr("復旧用の鍵ペアを作成しました。秘密鍵 {} はオフラインで厳重に保管してください。",
               "Made a recovery key pair. Keep the secret key {} offline and safe.", out_secret));
    return static_cast<int>(kExitOk);
  });

  CLI::App* remove =
      key->add_subcommand("remove", L("鍵を削除 (最後のパスワード/鍵ファイルは削除できません)",
                                      "remove a key (the last password or key file cannot be removed)"));
  remove->add_option("ID", remove_id, L("鍵の ID (先頭 4 文字以上)", "key ID (at least 4 leading digits)"))
      ->required();
  OnRun(remove, ctx, exit_code, [&ctx, &remove_id] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    auto lock = (*repo)->store().Lock(LockMode::kExclusive, 60000);
    if (!lock.ok()) return Fail(ctx, lock.status());
    Status st = (*repo)->RemoveKey(remove_id);
    if (!st.ok()) return Fail(ctx, st);
    if (ctx.opts.json) PrintJson({{"ok", true}});
    ctx.Say(Tr("鍵 {} を削除しました", "removed key {}", remove_id));
    return static_cast<int>(kExitOk);
  });
}

void AddRepositoryCommands(CLI::App& app, Context& ctx, int* exit_code) {
  CLI::App* init = app.add_subcommand("init", L("リポジトリを作成", "create a repository"));
  std::shared_ptr<VaultInitFlags> vault = AddVaultInitOptions(init);
  OnRun(init, ctx, exit_code,
        [&ctx, vault] { return vault->url.empty() ? Init(ctx) : VaultInit(ctx, *vault); });

  CLI::App* snapshots =
      app.add_subcommand("snapshots", L("スナップショット (世代) の一覧", "list snapshots (generations)"));
  OnRun(snapshots, ctx, exit_code, [&ctx] { return Snapshots(ctx); });

  std::string& ls_ref = ctx.NewFlags<std::string>();
  CLI::App* ls = app.add_subcommand("ls", L("スナップショットの中身の一覧", "list what a snapshot holds"));
  ls->add_option("SNAPSHOT", ls_ref,
                 L("ID、ID の先頭部分、または latest", "an ID, a unique ID prefix, or latest"))
      ->required();
  OnRun(ls, ctx, exit_code, [&ctx, &ls_ref] { return Ls(ctx, ls_ref); });

  AddKeyCommands(app, ctx, exit_code);
}

}  // namespace kura::cli
