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

namespace kura {

using nlohmann::json;

namespace {

json ToJson(const SendItem& i) {
  return {{"version", kSendQueueItemVersion}, {"id", i.id},           {"job", i.job},
          {"target", i.target},               {"snapshot", i.snapshot}, {"kind", KindName(i.kind)},
          {"night", i.night},                 {"enqueued", i.enqueued}, {"attempts", i.attempts},
          {"next_attempt", i.next_attempt},   {"last_error", i.last_error}};
}

Result<SendItem> FromJson(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [&] {
    return Status::Corruption(Tr("送信待ちファイル {} が壊れています", "send queue file {} is damaged", path));
  };
  if (j.is_discarded() || !j.is_object()) return bad();
  if (j.value("version", 0) > kSendQueueItemVersion) {
    return Status::Unsupported(Tr("送信待ちファイル {} はこの kura より新しい形式です", "send queue file {} has a newer format", path));
  }
  SendItem i;
  try {
    i.id = j.at("id").get<std::string>();
    i.job = j.at("job").get<std::string>();
    i.target = j.at("target").get<std::string>();
    i.snapshot = j.at("snapshot").get<std::string>();
    auto kind = ParseKind(j.at("kind").get<std::string>());
    if (!kind) return bad();
    i.kind = *kind;
    i.night = j.value("night", false);
    i.enqueued = j.value("enqueued", int64_t{0});
    i.attempts = j.value("attempts", 0);
    i.next_attempt = j.value("next_attempt", int64_t{0});
    i.last_error = j.value("last_error", std::string());
  } catch (const json::exception&) {
    return bad();
  }
  return i;
}

}  // namespace

Status SendQueue::Put(SendItem& item) {
  KURA_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  if (item.id.empty()) {
    item.id = fmt::format("{}-{}-{}-{}", item.enqueued, item.job, item.target, item.snapshot.substr(0, 16));
  }
  std::string text = ToJson(item).dump(2) + "\n";
  return WriteFileAtomic(dir_ + "/" + item.id + ".json", AsBytes(text), 0600);
}

Result<std::vector<SendItem>> SendQueue::List(std::vector<std::string>* damaged) const {
  std::vector<SendItem> items;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return items;
    return ErrnoStatus(errno, L("送信待ちの一覧", "listing the send queue"), dir_);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    // Temporary files of an interrupted WriteFileAtomic do not end in ".json".
    if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : names) {
    std::string path = dir_ + "/" + name;
    auto text = ReadTextFile(path);
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound) continue;  // removed meanwhile
      return text.status();
    }
    auto item = FromJson(path, *text);
    if (!item.ok()) {
      if (damaged) damaged->push_back(path);
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
  return FromJson(path, text);
}

Status SendQueue::Remove(const std::string& id) {
  std::string path = dir_ + "/" + id + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, L("削除", "delete"), path);
  return SyncDir(dir_);
}

int64_t FirstAttemptTime(bool night, const SendWindow& window, int64_t now) {
  return night ? NextSendWindowStart(window, now) : now;
}

int64_t NextAttemptTime(const SendItem& item, const RetryPolicy& retry, const SendWindow& window, int64_t now) {
  int64_t t = now + BackoffSeconds(retry, item.attempts);
  return item.night ? NextSendWindowStart(window, t) : t;
}

}  // namespace kura
