#include "repo/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "repo/format.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

using crypto::SecretKey;
using nlohmann::json;

RepoKeys RepoKeys::Derive(const SecretKey& master) {
  return RepoKeys{master,
                  crypto::HkdfSha256(master, format::kInfoData),
                  crypto::HkdfSha256(master, format::kInfoBlobId),
                  crypto::HkdfSha256(master, format::kInfoChunker),
                  crypto::HkdfSha256(master, format::kInfoSnapshot),
                  crypto::HkdfSha256(master, format::kInfoPages)};
}

std::string_view KeySlotKindName(KeySlotKind kind) {
  switch (kind) {
    case KeySlotKind::kPassword:
      return "password";
    case KeySlotKind::kKeyFile:
      return "keyfile";
    case KeySlotKind::kRecovery:
      return "recovery";
  }
  return "password";
}

static std::optional<KeySlotKind> ParseSlotKind(const std::string& s) {
  if (s == "password") return KeySlotKind::kPassword;
  if (s == "keyfile") return KeySlotKind::kKeyFile;
  if (s == "recovery") return KeySlotKind::kRecovery;
  return std::nullopt;
}

crypto::Argon2Params NewSlotArgon2Params() {
  crypto::Argon2Params p;
  if (const char* mem = std::getenv("KURA_ARGON2_MEM_KIB")) {
    uint64_t kib = std::strtoull(mem, nullptr, 10);
    if (kib >= 8192) p.mem_limit = kib * 1024;
  }
  if (const char* ops = std::getenv("KURA_ARGON2_OPS")) {
    uint64_t n = std::strtoull(ops, nullptr, 10);
    if (n >= 1) p.ops_limit = n;
  }
  return p;
}

static Bytes WrapAad(const std::string& repository_id) {
  Bytes aad;
  Append(aad, AsBytes(format::kKeyWrapAadPrefix));
  Append(aad, AsBytes(repository_id));
  return aad;
}

static json SlotHeader(KeySlotKind kind, const KeySlotInfo& info) {
  return json{{"format", "kura-key"},
              {"version", format::kKeySlotVersion},
              {"repository", info.repository_id},
              {"kind", KeySlotKindName(kind)},
              {"label", info.label},
              {"host", info.host},
              {"created", info.created}};
}

static Bytes Serialize(const json& doc) {
  std::string s = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";  // a label may not be UTF-8
  return Bytes(s.begin(), s.end());
}

Result<Bytes> MakeSecretSlot(const SecretKey& master, KeySlotKind kind, std::string_view secret,
                             const KeySlotInfo& info) {
  crypto::Argon2Params params = NewSlotArgon2Params();
  Bytes salt = crypto::RandomBytes(16);
  KURA_ASSIGN_OR_RETURN(SecretKey kek, crypto::Argon2id(secret, salt, params));
  Bytes wrapped = crypto::Seal(kek, master.view(), WrapAad(info.repository_id));
  json doc = SlotHeader(kind, info);
  doc["kdf"] = json{{"algorithm", "argon2id"},
                    {"salt", ToHex(salt)},
                    {"ops_limit", params.ops_limit},
                    {"mem_limit", params.mem_limit}};
  doc["wrapped"] = ToHex(wrapped);
  return Serialize(doc);
}

Result<Bytes> MakeRecoverySlot(const SecretKey& master, ByteView recovery_public_key,
                               const KeySlotInfo& info) {
  KURA_ASSIGN_OR_RETURN(Bytes sealed, crypto::SealedBoxSeal(recovery_public_key, master.view()));
  json doc = SlotHeader(KeySlotKind::kRecovery, info);
  doc["recovery_public_key"] = ToHex(recovery_public_key);
  doc["wrapped"] = ToHex(sealed);
  return Serialize(doc);
}

Result<KeySlot> ParseKeySlot(const std::string& id, ByteView bytes) {
  auto bad = [&] {
    return Status::Corruption(Tr("鍵スロット {} が壊れています", "key slot {} is damaged", id));
  };
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  // json::value() throws on a field of the wrong type; slots are untrusted input.
  try {
    if (!doc.is_object() || doc.value("format", "") != "kura-key") return bad();
    if (doc.value("version", 0u) > format::kKeySlotVersion) {
      return Status::Unsupported(Tr("鍵スロット {} は新しい形式 (version {}) です。kura を更新してください",
                                    "key slot {} has a newer format (version {}); update kura", id,
                                    doc.value("version", 0u)));
    }
    auto kind = ParseSlotKind(doc.value("kind", ""));
    if (!kind || !doc.contains("wrapped") || !doc["wrapped"].is_string()) return bad();
    (void)doc.value("repository", "");  // read by Repository; checked here once
    KeySlot slot;
    slot.id = id;
    slot.kind = *kind;
    slot.label = doc.value("label", "");
    slot.host = doc.value("host", "");
    slot.created = doc.value("created", "");
    slot.doc = std::move(doc);
    return slot;
  } catch (const json::exception&) {
    return bad();
  }
}

static Result<SecretKey> ToKey(const Bytes& master) {
  if (master.size() != crypto::kKeySize) {
    return Status::Corruption(L("鍵スロットの内容が不正です", "key slot holds a malformed key"));
  }
  return SecretKey(master);
}

static Result<SecretKey> UnwrapSlotUnchecked(const KeySlot& slot, const std::string& repository_id,
                                             const Credentials& creds) {
  auto damaged = [&] {
    return Status::Corruption(Tr("鍵スロット {} が壊れています", "key slot {} is damaged", slot.id));
  };
  auto wrapped_field = slot.doc.find("wrapped");
  if (wrapped_field == slot.doc.end() || !wrapped_field->is_string()) return damaged();
  auto wrapped = FromHex(wrapped_field->get<std::string>());
  if (!wrapped) return damaged();
  if (slot.kind == KeySlotKind::kRecovery) {
    if (!creds.recovery_secret_key_file) return Status::NotFound("no recovery key offered");
    KURA_ASSIGN_OR_RETURN(std::string sk_hex, ReadKeyFile(*creds.recovery_secret_key_file));
    auto sk = FromHex(sk_hex);
    SecureZero(sk_hex.data(), sk_hex.size());
    if (!sk || sk->size() != crypto::kBoxSecretKeySize) {
      return Status::InvalidArgument(Tr("復旧用秘密鍵ファイル {} の形式が正しくありません",
                                        "recovery secret key file {} is malformed",
                                        *creds.recovery_secret_key_file));
    }
    auto pk = FromHex(slot.doc.value("recovery_public_key", ""));
    if (!pk) {
      SecureZero(sk->data(), sk->size());
      return damaged();
    }
    auto master = crypto::SealedBoxOpen(*pk, *sk, *wrapped);
    SecureZero(sk->data(), sk->size());
    if (!master.ok()) return Status::Unauthorized("recovery key does not fit this slot");
    Result<SecretKey> key = ToKey(*master);
    SecureZero(master->data(), master->size());
    return key;
  }
  std::string secret;
  if (slot.kind == KeySlotKind::kPassword) {
    if (!creds.password) return Status::NotFound("no password offered");
    secret = *creds.password;
  } else {
    if (!creds.key_file) return Status::NotFound("no key file offered");
    KURA_ASSIGN_OR_RETURN(secret, ReadKeyFile(*creds.key_file));
  }
  // `slot.doc` is const: operator[] on a missing key would be undefined behaviour.
  auto kdf_field = slot.doc.find("kdf");
  if (kdf_field == slot.doc.end() || !kdf_field->is_object()) {
    SecureZero(secret.data(), secret.size());
    return damaged();
  }
  const json& kdf = *kdf_field;
  auto salt = FromHex(kdf.value("salt", ""));
  if (kdf.value("algorithm", "") != "argon2id" || !salt || salt->size() != 16) {
    SecureZero(secret.data(), secret.size());
    return damaged();
  }
  crypto::Argon2Params params{kdf.value("ops_limit", uint64_t{3}),
                              kdf.value("mem_limit", uint64_t{64} << 20)};
  // kura writes 3 passes over 64 MiB; a slot asking for far more is damaged (or hostile) and
  // would otherwise hang the open or exhaust memory.
  if (params.ops_limit > 64 || params.mem_limit > (uint64_t{4} << 30)) {
    SecureZero(secret.data(), secret.size());
    return damaged();
  }
  auto kek = crypto::Argon2id(secret, *salt, params);
  SecureZero(secret.data(), secret.size());
  if (!kek.ok()) return kek.status().code() == Code::kInvalidArgument ? damaged() : kek.status();
  auto master = crypto::Open(*kek, *wrapped, WrapAad(repository_id));
  if (!master.ok()) return Status::Unauthorized("secret does not open this slot");
  Result<SecretKey> key = ToKey(*master);
  SecureZero(master->data(), master->size());
  return key;
}

Result<SecretKey> UnwrapSlot(const KeySlot& slot, const std::string& repository_id,
                             const Credentials& creds) {
  // json::value() throws on a field of the wrong type; slots are untrusted input.
  try {
    auto key = UnwrapSlotUnchecked(slot, repository_id, creds);
    if (!key.ok() && key.status().code() == Code::kUnauthorized && slot.kind == KeySlotKind::kPassword &&
        creds.password_with_bom) {
      Credentials legacy;
      legacy.password = creds.password_with_bom;
      return UnwrapSlotUnchecked(slot, repository_id, legacy);
    }
    return key;
  } catch (const json::exception&) {
    return Status::Corruption(Tr("鍵スロット {} が壊れています", "key slot {} is damaged", slot.id));
  }
}

Result<std::string> ReadKeyFile(const std::string& path) {
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() < 16) {
    SecureZero(text.data(), text.size());
    return Status::InvalidArgument(Tr("鍵ファイル {} が短すぎます (16 文字以上必要です)",
                                      "key file {} is too short (at least 16 characters)", path));
  }
  return text;
}

Status CreateKeyFile(const std::string& path) {
  Bytes raw = crypto::RandomBytes(32);
  std::string b64(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), raw.data(), raw.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  b64 += "\n";
  SecureZero(raw.data(), raw.size());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, L("鍵ファイルの作成", "creating key file"), path);
  ssize_t n = ::write(fd, b64.data(), b64.size());
  int err = errno;
  bool ok = n == static_cast<ssize_t>(b64.size()) && ::fsync(fd) == 0;
  ::close(fd);
  SecureZero(b64.data(), b64.size());
  if (!ok) {
    ::unlink(path.c_str());
    return ErrnoStatus(err, L("鍵ファイルの作成", "creating key file"), path);
  }
  return Status::Ok();
}

}  // namespace kura
