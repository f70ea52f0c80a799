#include "agent/send_queue.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "agent/schedule.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/json_files.h"
#include "util/json_read.h"
#include "util/text.h"

namespace kura {

using nlohmann::json;

namespace {

json ToJson(const SendItem& i) {
  return {{"version", kSendQueueItemVersion},
          {"id", i.id},
          {"job", i.job},
          {"target", i.target},
          {"snapshot", i.snapshot},
          {"kind", KindName(i.kind)},
          {"night", i.night},
          {"enqueued", i.enqueued},
          {"attempts", i.attempts},
          {"next_attempt", i.next_attempt},
          {"last_error", EscapeText(i.last_error)}};
}

}  // namespace

Result<SendItem> ParseSendItem(std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  std::string problem;
  JsonView v(&j, "", &problem);
  if (j.is_discarded())
    problem = "not valid JSON";
  else if (!j.is_object())
    v.Fail("", fmt::format("expected an object, got {}", JsonTypeName(j)));
  if (problem.empty() && v.Int("version", 0) > kSendQueueItemVersion) {
    return Status::Unsupported(Tr("送信待ちファイル {} はこの kura より新しい形式です",
                                  "send queue file {} has a newer format", path));
  }
  SendItem i;
  if (problem.empty()) {
    for (const char* key : {"id", "job", "target", "snapshot", "kind"}) v.Require(key);
    i.id = v.String("id");
    i.job = v.String("job");
    i.target = v.String("target");
    i.snapshot = v.String("snapshot");
    std::string kind = v.String("kind");
    if (auto k = ParseKind(kind))
      i.kind = *k;
    else if (v.Has("kind"))
      v.Fail("kind", "expected daily, monthly or manual");
    i.night = v.Bool("night");
    i.enqueued = v.Int("enqueued");
    i.attempts = v.Int32("attempts");
    i.next_attempt = v.Int("next_attempt");
    i.last_error = v.String("last_error");
  }
  if (!problem.empty()) {
    return Status::Corruption(
        Tr("送信待ちファイル {} が壊れています ({})。この送信は行われません。"
           "保存元のスナップショットを送り直すには kura run でジョブを実行してください",
           "send queue file {} is damaged ({}); it is not sent. To send the snapshot again, "
           "run the job (kura run)",
           path, problem));
  }
  return i;
}

Status SendQueue::Put(SendItem& item) {
  KURA_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  if (item.id.empty()) {
    item.id = fmt::format("{}-{}-{}-{}", item.enqueued, item.job, item.target, item.snapshot.substr(0, 16));
  }
  std::string text = DumpStateJson(ToJson(item));
  return WriteFileAtomic(dir_ + "/" + item.id + ".json", AsBytes(text), 0600);
}

Result<std::vector<SendItem>> SendQueue::List(std::vector<std::string>* damaged) const {
  std::vector<SendItem> items;
  KURA_ASSIGN_OR_RETURN(std::vector<JsonFile> files,
                        ReadJsonFiles(dir_, "送信待ちの一覧", "listing the send queue"));
  for (JsonFile& f : files) {
    auto item = ParseSendItem(f.text, f.path);
    if (!item.ok()) {
      if (damaged) damaged->push_back(f.path);
      continue;
    }
    items.push_back(std::move(*item));
  }
  std::sort(items.begin(), items.end(), [](const SendItem& a, const SendItem& b) {
    return a.enqueued != b.enqueued ? a.enqueued < b.enqueued : a.id < b.id;
  });
  return items;
}

Result<SendItem> SendQueue::Get(const std::string& id) const {
  std::string path = dir_ + "/" + id + ".json";
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseSendItem(text, path);
}

Status SendQueue::Remove(const std::string& id) {
  std::string path = dir_ + "/" + id + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, L("削除", "delete"), path);
  return SyncDir(dir_);
}

int64_t FirstAttemptTime(bool night, const SendWindow& window, int64_t now) {
  return night ? NextSendWindowStart(window, now) : now;
}

int64_t NextAttemptTime(const SendItem& item, const RetryPolicy& retry, const SendWindow& window,
                        int64_t now) {
  int64_t t = now + BackoffSeconds(retry, item.attempts);
  return item.night ? NextSendWindowStart(window, t) : t;
}

}  // namespace kura
