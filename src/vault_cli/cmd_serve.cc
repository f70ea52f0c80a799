// kura-vault serve: the HTTPS agent API until SIGTERM or SIGINT (docs/vault-cli.md).
//
// The signals are blocked before any thread starts and taken by sigwait on the main
// thread, so no handler runs in a random thread and the stop is an ordinary call:
// HttpServer::Stop lets uploads in flight finish within stop_grace, then cuts the rest
// (a cut upload leaves only a temporary file, which is no object and is removed).
#include <pthread.h>

#include <csignal>
#include <cstdlib>

#include "util/i18n.h"
#include "vault/alarm_tick.h"
#include "vault/gc.h"
#include "vault/log.h"
#include "vault/periodic.h"
#include "vault/scrub.h"
#include "vault/server.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static std::string HostPort(const std::string& host, uint16_t port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

static int Serve(Context& ctx, const std::string& listen) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // inherited by every thread started below
  std::signal(SIGPIPE, SIG_IGN);

  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  if (!listen.empty()) {
    Status st = vault::ParseListen(listen, &v->config.server.listen_host, &v->config.server.listen_port);
    if (!st.ok()) return Fail(ctx, st);
  }
  auto server = vault::VaultServer::Start(v->config, *v->catalog, *ctx.clock);
  if (!server.ok()) return Fail(ctx, server.status());
  std::string address = HostPort(v->config.server.listen_host, (*server)->port());
  std::string fingerprint = (*server)->fingerprint().ToString();
  vault::AuditActor actor = ConsoleActor();
  (void)v->catalog->Audit({actor, "vault.serve", "listen:" + address, std::string(vault::kAuditSuccess),
                           "certificate=" + fingerprint});
  vault::LogInfo("kura-vault listening on https://{} (certificate {})", address, fingerprint);
  // One line on stdout, so a supervisor or a test can read where the vault listens.
  if (ctx.opts.json) {
    PrintLine(json{{"ok", true},
                   {"listen", address},
                   {"host", v->config.server.listen_host},
                   {"port", (*server)->port()},
                   {"certificate_fingerprint", fingerprint}}
                  .dump());
  } else {
    PrintLine(Tr("https://{} で待ち受けています (証明書 {})", "listening on https://{} (certificate {})",
                 address, fingerprint));
  }
  std::fflush(stdout);

  // The vault's own timers on one thread: the alarm tick each minute, garbage collection
  // every 6 hours and a scrub share once a day (docs/vault-gc-scrub.md), first 10 and 30
  // minutes after start (a vault restarted in a loop does not sweep or read its disk each
  // time). KURA_VAULT_TICK_SECONDS shortens the alarm tick for tests.
  vault::PeriodicTasks periodic;
  vault::AlarmTickMemory tick_memory;
  int64_t tick_seconds = 60;
  if (const char* env = std::getenv("KURA_VAULT_TICK_SECONDS"); env != nullptr && std::atoll(env) > 0) {
    tick_seconds = std::atoll(env);
  }
  periodic.Add("alarm tick", std::chrono::seconds(tick_seconds), [&v, &ctx, &tick_memory] {
    Result<vault::AlarmTickReport> r = vault::RunAlarmTick(*v->catalog, *ctx.clock, &tick_memory);
    if (!r.ok()) {
      vault::LogError("alarm tick failed: {}", r.status().ToString());
    } else if (r->raised + r->cleared + r->evicted > 0) {
      vault::LogInfo(
          "alarm tick: {} repositories, {} alarms raised, {} cleared, {} generations quarantined{}",
          r->repositories, r->raised, r->cleared, r->evicted,
          r->clock_frozen ? " (clock frozen: nothing evicted)" : "");
    }
  });
  vault::MetricsRegistry& metrics = (*server)->metrics();
  periodic.Add(
      "garbage collection", std::chrono::hours(6),
      [&v, &ctx, &metrics, &periodic] {
        vault::GcOptions o;
        o.grace_days = v->config.gc_scrub.gc_grace_days;
        o.upload_lease_seconds = v->config.gc_scrub.gc_upload_lease_seconds;
        o.deletion_blocked = vault::HoldsAndClockGuard(*v->catalog);
        o.stop = [&periodic] { return periodic.stopping(); };
        vault::AuditActor system{"system", "kura-vault", "local", "", "periodic"};
        Result<vault::GcReport> r = vault::RunGc(*v->catalog, v->config.objects_dir, *ctx.clock, o, system);
        if (!r.ok()) {
          vault::LogError("garbage collection failed: {}", r.status().ToString());
          return;
        }
        metrics.SetKeptGauge("kura_vault_gc_last_run_timestamp_seconds", {},
                             static_cast<double>(ctx.clock->NowUnix()));
        metrics.Count("kura_vault_gc_deleted_bytes_total", {}, static_cast<double>(r->bytes_reclaimed));
        metrics.Count("kura_vault_gc_quarantined_packs_total", {}, static_cast<double>(r->packs_quarantined));
        for (const std::string& p : r->problems) vault::LogWarning("garbage collection: {}", p);
        if (r->packs_quarantined + r->packs_deleted + r->snapshots_deleted > 0 ||
            r->repositories_blocked > 0) {
          vault::LogInfo(
              "garbage collection: {} repositories ({} on hold or frozen, {} uploading), {} packs "
              "quarantined, "
              "{} packs and {} snapshots deleted, {} bytes reclaimed",
              r->repositories, r->repositories_blocked, r->repositories_leased, r->packs_quarantined,
              r->packs_deleted, r->snapshots_deleted, r->bytes_reclaimed);
        }
      },
      std::chrono::minutes(10));
  periodic.Add(
      "scrub", std::chrono::hours(24),
      [&v, &ctx, &metrics, &periodic] {
        vault::ScrubOptions o;
        o.budget_seconds = v->config.gc_scrub.scrub_budget_seconds;
        o.period_days = v->config.gc_scrub.scrub_period_days;
        o.stop = [&periodic] { return periodic.stopping(); };
        vault::AuditActor system{"system", "kura-vault", "local", "", "periodic"};
        Result<vault::ScrubReport> r =
            vault::RunScrub(*v->catalog, v->config.objects_dir, *ctx.clock, o, system);
        if (!r.ok()) {
          vault::LogError("scrub failed: {}", r.status().ToString());
          return;
        }
        metrics.SetKeptGauge("kura_vault_scrub_last_run_timestamp_seconds", {},
                             static_cast<double>(ctx.clock->NowUnix()));
        metrics.Count("kura_vault_scrub_checked_bytes_total", {}, static_cast<double>(r->bytes_checked));
        metrics.SetKeptGauge("kura_vault_scrub_last_run_damaged_objects", {},
                             static_cast<double>(r->damage.size()));
        for (const vault::ScrubFinding& d : r->damage) {
          vault::LogError("scrub: {} {} of repository {} (tenant {}) is damaged: {}; snapshots affected: {}",
                          d.kind, d.name, d.repo_id, d.tenant, d.detail,
                          fmt::join(d.affected_snapshots, ", "));
        }
        vault::LogInfo("scrub: {} of {} objects checked ({} bytes){}", r->objects_checked, r->objects_total,
                       r->bytes_checked, r->budget_exhausted ? ", stopped by the time budget" : "");
      },
      std::chrono::minutes(30));
  periodic.Start();

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  vault::LogInfo("stopping on {}: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  periodic.Stop();
  (*server)->Stop();
  (void)v->catalog->Audit({actor, "vault.stop", "listen:" + address, std::string(vault::kAuditSuccess),
                           sig == SIGTERM ? "SIGTERM" : "SIGINT"});
  vault::LogInfo("stopped");
  return kExitOk;
}

void AddServeCommand(CLI::App& app, Context& ctx, int* exit_code) {
  auto* cmd =
      app.add_subcommand("serve", L("HTTPS でサイトのエージェントからの受け付けを始める (SIGTERM で停止)",
                                    "serve the agent API over HTTPS (stop with SIGTERM)"));
  auto listen = std::make_shared<std::string>();
  cmd->add_option("--listen", *listen,
                  L("待ち受けるアドレス HOST:PORT (vault.toml の listen より優先。ポート 0 は空きポート)",
                    "address to listen on, HOST:PORT (overrides vault.toml; port 0 picks a free port)"));
  cmd->add_flag("--json", ctx.opts.json, L("待ち受けアドレスを JSON で出力", "print the address as JSON"));
  cmd->callback([&ctx, exit_code, listen] { *exit_code = Serve(ctx, *listen); });
}

}  // namespace kura::vault_cli
