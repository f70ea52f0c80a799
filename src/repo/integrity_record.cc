#include "repo/integrity_record.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "repo/index_cache.h"
#include "repo/repository.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

using nlohmann::json;

namespace {

constexpr std::string_view kFormatName = "kura-integrity-record";

std::optional<IntegrityState> ParseState(std::string_view s) {
  if (s == "intact") return IntegrityState::kIntact;
  if (s == "damaged") return IntegrityState::kDamaged;
  return std::nullopt;
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Status Damaged(const std::string& path, std::string_view what) {
  return Status::Corruption(
             Tr("検査記録 {} が壊れています ({})。このファイルを削除してから検査をやり直してください",
                "the integrity record {} is damaged ({}); delete the file, then check the repository again",
                path, what))
      .WithAdvice(Advice::kCheckRepository);
}

// Never throws: every field is type-checked before it is read.
Result<IntegrityMarks> Parse(const std::string& path, const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Damaged(path, "not JSON");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) return Damaged(path, "no version");
  if (version->get<int64_t>() > kIntegrityRecordVersion) {
    return Status::Unsupported(
        Tr("検査記録 {} は新しい kura (形式 {}) が書いたものです。kura を更新してください",
           "the integrity record {} was written by a newer kura (format {}); update kura", path,
           version->get<int64_t>()));
  }
  if (version->get<int64_t>() < 1) return Damaged(path, "bad version");
  auto snaps = doc.find("snapshots");
  if (snaps == doc.end() || !snaps->is_object()) return Damaged(path, "no snapshots");
  IntegrityMarks marks;
  for (auto it = snaps->begin(); it != snaps->end(); ++it) {
    const json& m = it.value();
    if (!m.is_object()) return Damaged(path, "bad mark");
    auto state = m.find("state");
    if (state == m.end() || !state->is_string()) return Damaged(path, "bad state");
    auto parsed = ParseState(state->get_ref<const std::string&>());
    if (!parsed) continue;  // a state a later version 1 writer may add: not ours to judge
    IntegrityMark mark;
    mark.state = *parsed;
    if (auto c = m.find("checked"); c != m.end() && c->is_string())
      ParseUtc(c->get<std::string>(), &mark.checked);
    if (auto b = m.find("by"); b != m.end() && b->is_string()) mark.by = b->get<std::string>();
    if (auto p = m.find("problem"); p != m.end() && p->is_string()) mark.problem = p->get<std::string>();
    marks[it.key()] = std::move(mark);
  }
  return marks;
}

std::string Serialize(const std::string& repo_id, const IntegrityMarks& marks) {
  json snaps = json::object();
  for (const auto& [id, m] : marks) {
    json j = {{"state", IntegrityStateName(m.state)}, {"checked", FormatUtc(m.checked)}, {"by", m.by}};
    if (!m.problem.empty()) j["problem"] = m.problem;
    snaps[id] = std::move(j);
  }
  json doc = {{"format", kFormatName},
              {"version", kIntegrityRecordVersion},
              {"repository", repo_id},
              {"snapshots", std::move(snaps)}};
  // Messages may quote names in any encoding: replace, never throw (type_error 316).
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Read-modify-write of the record under an exclusive flock.
Status Update(const std::string& path, const std::string& repo_id,
              const std::function<void(IntegrityMarks&)>& change) {
  KURA_RETURN_IF_ERROR(MakeDirs(DirOf(path), 0700));
  std::string lock_path = DirOf(path) + "/integrity.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, L("開く", "open"), lock_path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, L("ロック", "lock"), lock_path);
    }
  }
  auto marks = LoadIntegrityRecord(path);
  Status st;
  if (!marks.ok() && marks.status().code() != Code::kCorruption) {
    st = marks.status();
  } else {
    // A damaged record is replaced: the new results are what a check just proved.
    IntegrityMarks m = marks.ok() ? std::move(*marks) : IntegrityMarks{};
    change(m);
    std::string text = Serialize(repo_id, m);
    st = WriteFileAtomic(path, AsBytes(text), 0600);
  }
  ::close(fd);  // releases the lock
  return st;
}

}  // namespace

std::string_view IntegrityStateName(IntegrityState state) {
  switch (state) {
    case IntegrityState::kIntact:
      return "intact";
    case IntegrityState::kDamaged:
      return "damaged";
    case IntegrityState::kUnknown:
      break;
  }
  return "unknown";
}

std::string IntegrityRecordPath(const std::string& repo_id) {
  return DefaultCacheRoot() + "/" + repo_id + "/integrity.json";
}

Result<IntegrityMarks> LoadIntegrityRecord(const std::string& path) {
  if (!PathExists(path)) return IntegrityMarks{};
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return IntegrityMarks{};
    return text.status();
  }
  return Parse(path, *text);
}

Result<IntegrityMarks> LoadIntegrityRecord(const Repository& repo) {
  return LoadIntegrityRecord(IntegrityRecordPath(repo.config().id));
}

Status RecordIntegrity(const std::string& path, const std::string& repo_id,
                       const std::vector<IntegrityResult>& results, std::string_view by, const Clock& clock) {
  if (results.empty()) return Status::Ok();
  int64_t now = clock.NowUnix();
  return Update(path, repo_id, [&](IntegrityMarks& marks) {
    for (const IntegrityResult& r : results) {
      if (r.state == IntegrityState::kUnknown) continue;
      marks[r.snapshot_id] = IntegrityMark{r.state, now, std::string(by), r.problem};
    }
  });
}

Status RecordIntegrity(const Repository& repo, const std::vector<IntegrityResult>& results,
                       std::string_view by, const Clock& clock) {
  return RecordIntegrity(IntegrityRecordPath(repo.config().id), repo.config().id, results, by, clock);
}

Status RecordVerifiedIntact(const Repository& repo, const std::vector<std::string>& snapshot_ids,
                            std::string_view by, const Clock& clock) {
  std::vector<IntegrityResult> results;
  for (const std::string& id : snapshot_ids) results.push_back({id, IntegrityState::kIntact, ""});
  return RecordIntegrity(repo, results, by, clock);
}

Status RecordDamaged(const Repository& repo, const std::vector<std::string>& snapshot_ids,
                     std::string_view by, std::string_view problem, const Clock& clock) {
  std::vector<IntegrityResult> results;
  for (const std::string& id : snapshot_ids)
    results.push_back({id, IntegrityState::kDamaged, std::string(problem)});
  return RecordIntegrity(repo, results, by, clock);
}

Status ForgetIntegrityMarks(const Repository& repo, const std::vector<std::string>& existing) {
  std::string path = IntegrityRecordPath(repo.config().id);
  if (!PathExists(path)) return Status::Ok();
  std::set<std::string> keep(existing.begin(), existing.end());
  return Update(path, repo.config().id, [&](IntegrityMarks& marks) {
    std::erase_if(marks, [&](const auto& kv) { return !keep.count(kv.first); });
  });
}

}  // namespace kura
