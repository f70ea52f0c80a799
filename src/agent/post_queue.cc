#include "agent/post_queue.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/schedule.h"
#include "crypto/crypto.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/json_files.h"

namespace kura {

using nlohmann::json;

namespace {

json ToJson(const PostItem& i) {
  json params = json::array();
  for (const auto& [k, v] : i.params) params.push_back({k, v});
  return {{"version", kPostItemVersion},
          {"id", i.id},
          {"seq", i.seq},
          {"job", i.job},
          {"event", i.event},
          {"scope", i.scope},
          {"params", params},
          {"enqueued", i.enqueued},
          {"attempts", i.attempts},
          {"next_attempt", i.next_attempt},
          {"last_error", i.last_error}};
}

Result<PostItem> FromJson(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [&] {
    return Status::Corruption(
        Tr("投稿待ちファイル {} が壊れています", "post queue file {} is damaged", path));
  };
  if (j.is_discarded() || !j.is_object()) return bad();
  PostItem i;
  try {
    if (j.value("version", 0) > kPostItemVersion) {
      return Status::Unsupported(Tr("投稿待ちファイル {} はこの kura より新しい形式です",
                                    "post queue file {} has a newer format", path));
    }
    i.id = j.at("id").get<std::string>();
    i.seq = j.at("seq").get<uint64_t>();
    i.job = j.at("job").get<std::string>();
    i.event = j.at("event").get<std::string>();
    i.scope = j.at("scope").get<std::string>();
    for (const json& p : j.at("params"))
      i.params.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
    i.enqueued = j.value("enqueued", int64_t{0});
    i.attempts = j.value("attempts", 0);
    i.next_attempt = j.value("next_attempt", int64_t{0});
    i.last_error = j.value("last_error", std::string());
  } catch (const json::exception&) {
    return bad();
  }
  return i;
}

// Which statement on which database: the same key is one post.
std::string SqlKey(const SqlHookConfig& s) {
  return json{s.kind, s.conn.host, s.conn.port, s.conn.socket, s.database, s.path, s.conn.user, s.statement}
      .dump();
}

const HookAction* ActionOf(const HookSet& set, const std::string& which) {
  return which == "failure" ? &set.on_failure : which == "success" ? &set.on_success : &set.on_clear;
}

const HookSet* ScopeSet(const RunContext& ctx, const JobConfig& job, const std::string& scope) {
  return scope == "agent" ? &ctx.config->hooks : &job.hooks;
}

void LogHook(const RunContext& ctx, const std::string& job, const std::string& target,
             const std::string& event, const std::string& result, const Status& st) {
  if (!ctx.log) return;
  std::vector<std::pair<std::string, std::string>> f = {
      {"job", job}, {"target", target.empty() ? "-" : target}, {"event", event}, {"result", result}};
  if (!st.ok()) f.push_back({"error", st.message()});
  ctx.log->Write(ctx.clk(), "hook", f);
}

std::string TargetOf(const PostItem& item) {
  for (const auto& [k, v] : item.params) {
    if (k == "target") return v;
  }
  return "";
}

}  // namespace

std::string PostQueueDir(const AgentConfig& config) {
  return config.state_dir + "/posts";
}

Result<PostItem> ParsePostItem(const std::string& path, const std::string& text) {
  return FromJson(path, text);
}

std::string SerializePostItem(const PostItem& item) {
  return ToJson(item).dump(2) + "\n";
}

Status PostQueue::Put(PostItem& item) {
  KURA_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  if (item.seq == 0) {
    KURA_ASSIGN_OR_RETURN(std::vector<PostItem> items, List());
    item.seq = 1;
    for (const PostItem& i : items) item.seq = std::max(item.seq, i.seq + 1);
  }
  if (item.id.empty()) {
    item.id = fmt::format("{:012}-{}-{}-{}", item.seq, item.job, item.event, ToHex(crypto::RandomBytes(4)));
  }
  std::string text = SerializePostItem(item);
  return WriteFileAtomic(dir_ + "/" + item.id + ".json", AsBytes(text), 0600);
}

Result<std::vector<PostItem>> PostQueue::List(std::vector<std::string>* damaged) const {
  std::vector<PostItem> items;
  KURA_ASSIGN_OR_RETURN(std::vector<JsonFile> files,
                        ReadJsonFiles(dir_, "投稿待ちの一覧", "listing the post queue"));
  for (JsonFile& f : files) {
    auto item = FromJson(f.path, f.text);
    if (!item.ok()) {
      if (damaged) damaged->push_back(f.path);
      continue;
    }
    item->id = f.id;  // the file is what Remove() deletes
    items.push_back(std::move(*item));
  }
  std::sort(items.begin(), items.end(), [](const PostItem& a, const PostItem& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.id < b.id;
  });
  return items;
}

Status PostQueue::Remove(const std::string& id) {
  std::string path = dir_ + "/" + id + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, L("削除", "delete"), path);
  return SyncDir(dir_);
}

namespace {

// One attempt at a queued post; updates or removes its file. Returns false when the post
// is still queued (the job's later posts then wait behind it).
bool AttemptQueued(const RunContext& ctx, PostQueue& queue, PostItem item, PostRetryReport& report) {
  const JobConfig* job = ctx.config->FindJob(item.job);
  const HookAction* action = nullptr;
  if (job != nullptr && (item.scope == "agent" || item.scope == "job")) {
    action = ActionOf(*ScopeSet(ctx, *job, item.scope), item.event);
  }
  if (action == nullptr || !action->sql) {
    // The hook was removed from the configuration: nobody wants this post any more.
    Status gone =
        Status::NotFound(Tr("投稿待ち {} のフックは設定にありません。破棄しました",
                            "the hook of queued post {} is no longer configured; dropped", item.id));
    LogHook(ctx, item.job, TargetOf(item), item.event, "dropped", gone);
    (void)queue.Remove(item.id);
    ++report.dropped;
    return true;
  }
  Status st = RunSqlHook(*action->sql, item.params);
  if (st.ok() || st.code() != Code::kRetryable) {
    LogHook(ctx, item.job, TargetOf(item), item.event, st.ok() ? "ok" : "failed", st);
    Status rm = queue.Remove(item.id);
    if (!rm.ok()) LogHook(ctx, item.job, TargetOf(item), item.event, "failed", rm);
    st.ok() ? ++report.posted : ++report.dropped;
    return true;
  }
  int64_t now = ctx.clk().NowUnix();
  ++item.attempts;
  item.last_error = st.message();
  item.next_attempt = now + BackoffSeconds(ctx.config->retry, item.attempts);
  Status put = queue.Put(item);
  LogHook(ctx, item.job, TargetOf(item), item.event, "queued", put.ok() ? st : put);
  ++report.failed;
  return false;
}

}  // namespace

PostRetryReport RetryQueuedPosts(const RunContext& ctx, const std::string& job, bool force) {
  PostRetryReport report;
  PostQueue queue(PostQueueDir(*ctx.config));
  std::vector<std::string> damaged;
  auto items = queue.List(&damaged);
  for (const std::string& d : damaged) {
    if (ctx.log) ctx.log->Write(ctx.clk(), "posts", {{"result", "damaged"}, {"file", d}});
  }
  if (!items.ok()) {
    if (ctx.log)
      ctx.log->Write(ctx.clk(), "posts", {{"result", "failed"}, {"error", items.status().message()}});
    return report;
  }
  int64_t now = ctx.clk().NowUnix();
  std::set<std::string> blocked;  // jobs whose earlier post is still waiting
  for (const PostItem& item : *items) {
    if (!job.empty() && item.job != job) continue;
    if (blocked.count(item.job)) continue;
    if (!force && item.next_attempt > now) {
      blocked.insert(item.job);
      continue;
    }
    if (!AttemptQueued(ctx, queue, item, report)) blocked.insert(item.job);
  }
  return report;
}

void FireHooks(const RunContext& ctx, const JobConfig& job, const std::vector<FiredHook>& fired) {
  struct Post {
    std::string which;
    std::string scope;
    const SqlHookConfig* sql;
    HookEvent event;
  };
  std::vector<Post> posts;
  std::set<std::pair<std::string, std::string>> seen;  // (event type, SqlKey)
  for (const FiredHook& f : fired) {
    for (const char* scope : {"agent", "job"}) {
      const HookAction& a = *ActionOf(*ScopeSet(ctx, job, scope), f.which);
      if (!a.command.empty()) {
        HookAction command = a;
        command.sql.reset();
        Status st = RunHook(command, f.event);
        LogHook(ctx, job.name, f.event.target, f.which, st.ok() ? "ok" : "failed", st);
      }
      if (a.sql && seen.insert({f.which, SqlKey(*a.sql)}).second)
        posts.push_back({f.which, scope, &*a.sql, f.event});
    }
  }
  if (posts.empty()) return;
  PostQueue queue(PostQueueDir(*ctx.config));
  auto pending = queue.List();
  // Posts of one job are made in order: behind an older queued post, a new one queues too.
  const bool had_pending = pending.ok() && std::any_of(pending->begin(), pending->end(),
                                                       [&](const PostItem& i) { return i.job == job.name; });
  bool waiting = had_pending;
  for (const Post& p : posts) {
    PostItem item;
    item.job = job.name;
    item.event = p.which;
    item.scope = p.scope;
    item.params = HookParameters(p.event);
    item.enqueued = ctx.clk().NowUnix();
    if (!waiting) {
      Status st = RunSqlHook(*p.sql, item.params);
      if (st.ok() || st.code() != Code::kRetryable) {
        LogHook(ctx, job.name, p.event.target, p.which, st.ok() ? "ok" : "failed", st);
        continue;
      }
      item.attempts = 1;
      item.last_error = st.message();
      item.next_attempt = item.enqueued + BackoffSeconds(ctx.config->retry, 1);
      waiting = true;  // later posts of this call queue behind this one
      LogHook(ctx, job.name, p.event.target, p.which, "queued", st);
    }
    Status put = queue.Put(item);
    if (!put.ok()) LogHook(ctx, job.name, p.event.target, p.which, "failed", put);
  }
  // A newer post was queued behind older ones: try them all now, in order (the database
  // may be back); whatever still fails waits for the agent's retry.
  if (had_pending) RetryQueuedPosts(ctx, job.name, /*force=*/true);
}

}  // namespace kura
