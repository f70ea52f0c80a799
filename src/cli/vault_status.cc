#include "cli/vault_status.h"

#include "agent/vault_site.h"
#include "objstore/object_store.h"
#include "repo/config.h"
#include "repo/snapshot_kind.h"
#include "util/clock.h"
#include "util/i18n.h"

namespace kura::cli {

using nlohmann::json;

namespace {

// The first target's repository ID from its plaintext config: no password needed.
Result<std::string> RepositoryId(const TargetConfig& first) {
  KURA_ASSIGN_OR_RETURN(auto store, OpenObjectStore(first.repository, /*create=*/false));
  KURA_ASSIGN_OR_RETURN(Bytes bytes, store->Get(ObjectType::kConfig, "config"));
  KURA_ASSIGN_OR_RETURN(RepoConfig config, RepoConfig::Parse(bytes, first.repository));
  return config.id;
}

}  // namespace

json OffsiteStatus(const AgentConfig& config) {
  json out = json::array();
  for (const JobConfig& job : config.jobs) {
    for (const TargetConfig& t : job.targets) {
      if (!t.is_vault()) continue;
      json entry = {{"job", job.name},   {"target", t.name}, {"vault", t.vault},
                    {"latest", nullptr}, {"generations", 0}, {"error", nullptr}};
      RetryOptions one;
      one.max_attempts = 1;
      auto id = RepositoryId(job.targets.front());
      Result<VaultGenerations> gens = id.ok() ? [&]() -> Result<VaultGenerations> {
        KURA_ASSIGN_OR_RETURN(auto vault, OpenVault(config.state_dir, t.vault, *id, job.name, one));
        return vault->Generations();
      }()
          : Result<VaultGenerations>(id.status());
      if (!gens.ok()) {
        entry["error"] = gens.status().message();
      } else {
        entry["generations"] = gens->generations.size();
        entry["quota"] = {{"used", gens->used},
                          {"soft", gens->soft},
                          {"hard", gens->hard},
                          {"remaining", gens->remaining},
                          {"warning", gens->quota_warning}};
        const VaultGeneration* latest = nullptr;
        for (const VaultGeneration& g : gens->generations) {
          if (latest == nullptr || g.received > latest->received) latest = &g;
        }
        if (latest != nullptr) {
          entry["latest"] = {{"snapshot", latest->snapshot},
                             {"kind", latest->kind},
                             {"received", FormatUtc(latest->received)},
                             {"received_unix", latest->received}};
        }
      }
      out.push_back(std::move(entry));
    }
  }
  return out;
}

std::string OffsiteLines(const json& offsite) {
  std::string out;
  for (const json& e : offsite) {
    const std::string label = e["job"].get<std::string>() + "/" + e["target"].get<std::string>();
    if (!e["error"].is_null()) {
      out += Tr("保管庫 ({}): 確認できません: {}\n", "vault ({}): cannot check: {}\n", label,
                e["error"].get<std::string>());
    } else if (e["latest"].is_null()) {
      out += Tr("保管庫 ({}): まだ届いたバックアップはありません\n",
                "vault ({}): no backup has arrived yet\n", label);
    } else {
      const json& l = e["latest"];
      std::string kind = l["kind"].get<std::string>();
      auto k = ParseKind(kind);
      out += Tr("保管庫 ({}): 最後に届いたバックアップ {} ({})、保管中 {} 世代\n",
                "vault ({}): last backup arrived {} ({}), {} generations kept\n", label,
                FormatLocal(l["received_unix"].get<int64_t>()).substr(0, 16), k ? KindLabel(*k) : kind,
                e["generations"].get<size_t>());
    }
    if (e.contains("quota") && !e["quota"]["warning"].get<std::string>().empty()) {
      out += Tr("保管庫 ({}): 警告: {}\n", "vault ({}): warning: {}\n", label,
                e["quota"]["warning"].get<std::string>());
    }
  }
  return out;
}

}  // namespace kura::cli
