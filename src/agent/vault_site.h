// The site's side of a vault: what enrolment keeps (docs/agent.md, "Vault"), opening a
// VaultClient for a job's repository from it, and enrolment itself.
//
// <state_dir>/vault/enrolment.json (version 1, mode 0600) records the vault's URL, its
// certificate's fingerprint (pinned), the tenant, the site and the tenant's recovery
// public key; <state_dir>/vault/credential (mode 0600) holds the site credential and
// nothing else. The credential never appears in enrolment.json, a message or a log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/vault_client.h"
#include "kura/status.h"
#include "repo/repository.h"

namespace kura {

inline constexpr int kVaultEnrolmentVersion = 1;

struct VaultEnrolment {
  std::string url;
  std::string fingerprint;  // "sha256:<hex>"
  std::string tenant;
  std::string site;
  int64_t site_id = 0;
  std::string recovery_public_key;  // hex
  int64_t enrolled = 0;             // the vault's time at enrolment, Unix seconds
};

std::string VaultStateDir(const std::string& state_dir);
std::string VaultCredentialPath(const std::string& state_dir);

Status SaveEnrolment(const std::string& state_dir, const VaultEnrolment& e);
// Errors: kNotFound (never enrolled: the message says to run kura init --vault),
// kCorruption (a damaged file, named), kUnsupported (newer version).
Result<VaultEnrolment> LoadEnrolment(const std::string& state_dir);

// A client for `url` from the enrolment in `state_dir`, for repository `repo_id` and job
// `job`. kInvalidArgument when the site was enrolled with another vault URL.
Result<std::unique_ptr<VaultClient>> OpenVault(const std::string& state_dir, const std::string& url,
                                               const std::string& repo_id, const std::string& job,
                                               RetryOptions retry = {});

struct EnrolResult {
  VaultEnrolment enrolment;
  std::string recovery_slot;  // the recovery key slot's ID in the repository
  bool slot_added = false;    // false: the repository had that slot already
};

// Enrols this site with `code` at `url`: pins the code's fingerprint, POSTs /v1/enrol,
// stores the credential and enrolment.json, adds the tenant's recovery public key as a key
// slot of `repo` (unless it has one for that key), then registers the repository's config
// (bound to `job`) and key slots with the vault. Done again with a new code after a
// failure, it picks up where the last one stopped.
Result<EnrolResult> EnrolSite(const std::string& state_dir, const std::string& url, const EnrolmentCode& code,
                              const std::string& host, Repository& repo, const std::string& job,
                              const RetryOptions& retry = {});

}  // namespace kura
