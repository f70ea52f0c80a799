#!/usr/bin/env bash
# kura → kura-vault over loopback HTTPS beside the same backup into a local repository, in
# one run on the same data (issue 7 §6), with restic's local backup of that data as the peer
# reference:
#   1. local:  `kura backup` of the dataset into a local repository (the first target)
#   2. vault:  `kura backup --vault` of the same dataset into a fresh local repository
#              that then sends the snapshot to a kura-vault on 127.0.0.1 (what a site's
#              night does); throughput relative to 1. is the target (>= 70 %)
#   3. send:   an unchanged rerun whose packs all go to the vault (the send, nearly alone),
#              and the vault's CPU seconds per GiB it received
#   4. fleet:  BENCH_AGENTS agents (default 20), each its own site and dataset, backing up
#              to the one vault at once: aggregate ingest MiB/s
#
#   bash bench/vault.sh                       1 GiB dataset; writes the vault section of docs/benchmarks.md
#   BENCH_VAULT_MB=64 BENCH_AGENTS=4 bash bench/vault.sh    the CI smoke size (a minute)
#
# Environment:
#   BENCH_VAULT_MB     dataset size in MiB (default 1024)
#   BENCH_AGENTS       concurrent agents in step 4 (default 20)
#   BENCH_AGENT_MB     dataset of each fleet agent in MiB (default 32)
#   BENCH_WORK         where data, repositories and the vault go (default: /dev/shm when it
#                      has room, else /tmp)
#   BENCH_DOCS=0|1     write docs/benchmarks.md's vault section (default 1 at >= 1024 MiB)
#   BENCH_MIN_RATIO    fail when vault/local throughput is below this (default: none)
#   KURA_BIN, KURA_VAULT_BIN   default build/bin/kura, build/bin/kura-vault
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MB="${BENCH_VAULT_MB:-1024}"
AGENTS="${BENCH_AGENTS:-20}"
AGENT_MB="${BENCH_AGENT_MB:-32}"
KURA_BIN="${KURA_BIN:-$REPO_ROOT/build/bin/kura}"
VAULT_BIN="${KURA_VAULT_BIN:-$REPO_ROOT/build/bin/kura-vault}"
if [ "$MB" -ge 1024 ]; then BENCH_DOCS="${BENCH_DOCS:-1}"; else BENCH_DOCS="${BENCH_DOCS:-0}"; fi
[ -x "$KURA_BIN" ] || die "no kura binary at $KURA_BIN"
[ -x "$VAULT_BIN" ] || die "no kura-vault binary at $VAULT_BIN"
require_tools python3
have_restic=0
command -v restic >/dev/null 2>&1 && have_restic=1

need_kib=$(((MB * 4 + AGENTS * AGENT_MB * 3) * 1024))
if [ -z "${BENCH_WORK:-}" ]; then
  shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
  if [ -n "$shm_free" ] && [ "$shm_free" -gt "$need_kib" ]; then BENCH_WORK=/dev/shm; else BENCH_WORK=/tmp; fi
fi
work="$(mktemp -d "$BENCH_WORK/kura-vault-bench.XXXXXX")"
vault_pid=""
cleanup() {
  [ -n "$vault_pid" ] && kill "$vault_pid" 2>/dev/null && wait "$vault_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
out="$BENCH_DIR/out/vault-$MB"
mkdir -p "$out"
results="$out/results.tsv"
printf 'step\twall_s\tmib\tmib_per_s\tpeak_rss_kib\texit\n' >"$results"

export KURA_PASSWORD="kura-bench-kura" RESTIC_PASSWORD="kura-bench-restic"
export XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" RESTIC_CACHE_DIR="$work/cache/restic"
export KURA_VAULT_DATA_DIR="$work/vault"
printf '%s\n' "$KURA_PASSWORD" >"$work/password"
chmod 600 "$work/password"

# A night's dump of a clinic: CSV-like care records (Japanese text, compresses ~3:1) with
# a tenth of incompressible bytes (scanned forms), deterministic per seed.
make_data() {
  python3 - "$1" "$2" "$3" <<'EOF'
import os, random, sys
path, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
words = "記録 介護 看護 食事 入浴 排泄 服薬 体温 血圧 脈拍 訪問 請求 確定 下書き reception visit note billing".split()
os.makedirs(path, exist_ok=True)
target = mib << 20
written, n = 0, 0
while written < target:
    with open(os.path.join(path, f"dump-{n:03d}.sql"), "wb") as f:
        size = min(target - written, 64 << 20)
        done = 0
        while done < size:
            if rng.random() < 0.1:
                chunk = rng.randbytes(65536)
            else:
                rows = []
                for _ in range(400):
                    rows.append(f"INSERT INTO visits VALUES ({rng.randrange(10**7)}, '{rng.choice(words)}', "
                                f"'{' '.join(rng.choice(words) for _ in range(8))}', {rng.randrange(10**4)});\n")
                chunk = "".join(rows).encode()
            chunk = chunk[: size - done]
            f.write(chunk)
            done += len(chunk)
        written += done
    n += 1
EOF
}

# The vault's user + system CPU ticks so far.
vault_ticks() { awk '{print $14 + $15}' "/proc/$vault_pid/stat"; }
ticks_per_s=$(getconf CLK_TCK)

json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$@"; }

row() {  # step wall mib rss exit
  local rate
  rate=$(python3 -c "import sys; w=float(sys.argv[1]); print(f'{float(sys.argv[2]) / w:.1f}' if w > 0 else '0')" "$2" "$3")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$rate" "$4" "$5" >>"$results"
  log "$1: $2 s, $3 MiB, $rate MiB/s"
}

timed() {  # step mib CMD... ; appends a row, returns CMD's exit code
  local step="$1" mib="$2"
  shift 2
  local m="$out/$step.time"
  : >"$m"
  measure "$m" "$@"
  local rc=$?
  read -r wall rss code <"$m"
  row "$step" "$wall" "$mib" "$rss" "$code"
  return $rc
}

log "making $MB MiB of data and $AGENTS × $AGENT_MB MiB for the fleet under $work"
make_data "$work/data" "$MB" 1
for i in $(seq 1 "$AGENTS"); do make_data "$work/fleet-data/$i" "$AGENT_MB" $((100 + i)); done

log "kura-vault: init, tenant, recovery key, serve on 127.0.0.1"
"$VAULT_BIN" init --operator bench.operator >"$out/vault-init.log" 2>&1 || die "kura-vault init failed: $(cat "$out/vault-init.log")"
"$VAULT_BIN" tenant add bench-clinic >/dev/null || die "tenant add failed"
"$KURA_BIN" key generate-recovery --secret-key-file "$work/recovery.key" --public-key-file "$work/recovery.pub" >/dev/null \
  || die "kura key generate-recovery failed"
"$VAULT_BIN" tenant set-recovery-key bench-clinic --public-key-file "$work/recovery.pub" >/dev/null || die "set-recovery-key failed"
"$VAULT_BIN" --json serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$out/vault-serve.log" &
vault_pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/serve.out" ] && break
  sleep 0.1
done
port=$(head -n 1 "$work/serve.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])') || die "serve did not start: $(cat "$out/vault-serve.log")"
url="https://127.0.0.1:$port"
log "kura-vault serving on $url"

# A site: its own local repository, enrolled with the vault; prints nothing.
enrol_site() {  # name repo state
  "$VAULT_BIN" site add bench-clinic "$1" >/dev/null || die "site add $1 failed"
  "$VAULT_BIN" --json site enroll bench-clinic "$1" >"$work/enrol-$1.json" || die "site enroll $1 failed"
  json_field "$work/enrol-$1.json" '["code"]' >"$work/enrol-$1.txt"
  chmod 600 "$work/enrol-$1.txt"
  "$KURA_BIN" init -r "$2" --password-file "$work/password" >/dev/null || die "kura init $2 failed"
  "$KURA_BIN" init --vault "$url" --enroll "$work/enrol-$1.txt" --job nightly -r "$2" --password-file "$work/password" \
    --state-dir "$3" >"$out/enrol-$1.log" 2>&1 || die "kura init --vault for $1 failed: $(cat "$out/enrol-$1.log")"
}

log "1. local backup of $MB MiB"
"$KURA_BIN" init -r "$work/local" --password-file "$work/password" >/dev/null || die "kura init failed"
timed local "$MB" "$KURA_BIN" backup -r "$work/local" --password-file "$work/password" --kind daily "$work/data" \
  || die "local backup failed"

log "2. backup of the same $MB MiB to a new local repository and sent to the vault"
enrol_site honin "$work/site" "$work/site-state"
t0=$(vault_ticks)
timed vault "$MB" "$KURA_BIN" backup -r "$work/site" --password-file "$work/password" --kind daily \
  --vault "$url" --job nightly --state-dir "$work/site-state" "$work/data" || die "backup to the vault failed"
t1=$(vault_ticks)

log "3. the send: a second site backs the data up locally, then again with --vault (an unchanged rerun, then all packs go up)"
enrol_site bunin "$work/site2" "$work/site2-state"
timed send-local "$MB" "$KURA_BIN" backup -r "$work/site2" --password-file "$work/password" --kind daily "$work/data" \
  || die "backup for the send step failed"
s0=$(vault_ticks)
timed send "$MB" "$KURA_BIN" backup -r "$work/site2" --password-file "$work/password" --kind daily \
  --vault "$url" --job nightly --state-dir "$work/site2-state" "$work/data" || die "the send step failed"
s1=$(vault_ticks)
received_mib=$(python3 -c "import sys; print(int(sys.argv[1]) / 1048576)" "$(size_bytes "$work/vault/objects")")

log "4. $AGENTS agents at once"
mkdir -p "$work/fleet" "$work/fleet-state"
for i in $(seq 1 "$AGENTS"); do enrol_site "fleet-$i" "$work/fleet/$i" "$work/fleet-state/$i"; done
f0=$(vault_ticks)
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$AGENTS"); do
  "$KURA_BIN" backup -r "$work/fleet/$i" --password-file "$work/password" --kind daily --vault "$url" --job nightly \
    --state-dir "$work/fleet-state/$i" "$work/fleet-data/$i" >"$out/fleet-$i.log" 2>&1 &
  pids+=($!)
done
fleet_fail=0
for p in "${pids[@]}"; do wait "$p" || fleet_fail=$((fleet_fail + 1)); done
end=$(date +%s.%N)
f1=$(vault_ticks)
fleet_wall=$(python3 -c "print(f'{$end - $start:.2f}')")
row fleet "$fleet_wall" $((AGENTS * AGENT_MB)) 0 "$fleet_fail"
[ "$fleet_fail" -eq 0 ] || log "WARNING: $fleet_fail of $AGENTS fleet agents failed (see $out/fleet-*.log)"

if [ "$have_restic" -eq 1 ]; then
  log "peer: restic backup of the same $MB MiB into a local repository"
  restic init -r "$work/restic" >/dev/null 2>&1
  timed restic-local "$MB" restic -r "$work/restic" backup -q "$work/data" || log "restic failed"
fi

# Ratios and the vault's CPU per GB received.
python3 - "$results" "$t0" "$t1" "$s0" "$s1" "$f0" "$f1" "$ticks_per_s" "$received_mib" "$out/summary.tsv" <<'EOF'
import csv, sys
res, t0, t1, s0, s1, f0, f1, hz, received, summary = sys.argv[1:]
rows = {r["step"]: r for r in csv.DictReader(open(res), delimiter="\t")}
def rate(step):
    return float(rows[step]["mib_per_s"]) if step in rows else 0.0
lines = []
if "local" in rows and "vault" in rows and rate("local") > 0:
    lines.append(("vault_vs_local_end_to_end", f"{rate('vault') / rate('local') * 100:.0f} %"))
if "send" in rows and rows["send"]["exit"] == "0" and rate("local") > 0:
    lines.append(("send_alone_mib_per_s", rows["send"]["mib_per_s"]))
    lines.append(("send_vs_local", f"{rate('send') / rate('local') * 100:.0f} %"))
hz = float(hz)
gib = float(received) / 1024
if gib > 0:
    cpu = (float(t1) - float(t0) + float(s1) - float(s0) + float(f1) - float(f0)) / hz
    lines.append(("vault_cpu_s_per_gib_received", f"{cpu / gib:.1f}"))
if "fleet" in rows:
    lines.append(("fleet_aggregate_mib_per_s", rows["fleet"]["mib_per_s"]))
with open(summary, "w") as f:
    for k, v in lines:
        f.write(f"{k}\t{v}\n")
        print(f"[bench] {k}: {v}", file=sys.stderr)
EOF

if [ -n "${BENCH_MIN_RATIO:-}" ]; then
  ratio=$(awk -F'\t' '$1 == "vault_vs_local_end_to_end" {print $2 + 0}' "$out/summary.tsv")
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) * 100 else 1)" "${ratio:-0}" "$BENCH_MIN_RATIO" \
    || die "vault/local throughput ${ratio:-?} % is below the ${BENCH_MIN_RATIO} target"
fi

if [ "$BENCH_DOCS" = "1" ]; then
  python3 - "$results" "$out/summary.tsv" "$REPO_ROOT/docs/benchmarks.md" "$MB" "$AGENTS" "$AGENT_MB" "$(nproc)" <<'EOF' || die "could not write docs/benchmarks.md"
import csv, datetime, sys
res, summary, doc, mb, agents, agent_mb, cpus = sys.argv[1:]
rows = list(csv.DictReader(open(res), delimiter="\t"))
summ = dict(line.rstrip("\n").split("\t", 1) for line in open(summary) if "\t" in line)
titles = {"local": "kura backup into a local repository", "vault": "kura backup --vault (local, then sent)",
          "send-local": "second site: local backup", "send": "second site: unchanged rerun + send of every pack",
          "fleet": f"{agents} agents at once, {agent_mb} MiB each (aggregate)", "restic-local": "restic backup into a local repository (peer)"}
out = ["<!-- vault:begin -->", "## kura → kura-vault over loopback HTTPS (bench/vault.sh)", "",
       f"Run {datetime.date.today().isoformat()} on {cpus} CPUs: {mb} MiB of care-record dumps (a tenth incompressible), "
       "kura-vault with its embedded defaults (SQLite catalog, local objects) on 127.0.0.1, TLS 1.3.", "",
       "| step | wall s | MiB | MiB/s | peak RSS MiB |", "| --- | ---: | ---: | ---: | ---: |"]
for r in rows:
    rss = int(r["peak_rss_kib"] or 0) / 1024
    out.append(f"| {titles.get(r['step'], r['step'])} | {r['wall_s']} | {r['mib']} | {r['mib_per_s']} | {rss:.0f} |")
out += ["", "| measure | value | target |", "| --- | ---: | --- |",
        f"| backup --vault throughput / local backup throughput | {summ.get('vault_vs_local_end_to_end', '-')} | >= 70 % |",
        f"| unchanged rerun + send of every pack / local backup throughput | {summ.get('send_vs_local', '-')} | (the send alone) |",
        f"| kura-vault CPU seconds per GiB received | {summ.get('vault_cpu_s_per_gib_received', '-')} | (reported) |",
        f"| aggregate ingest, {agents} agents | {summ.get('fleet_aggregate_mib_per_s', '-')} MiB/s | (reported) |",
        "",
        "The site's night is the local backup, then the send (seed 000 keeps local generations and",
        "sends offsite), so the end-to-end ratio counts both in sequence; the send alone is the",
        "second ratio. Closing the end-to-end gap needs packs uploaded while the backup still runs.",
        "<!-- vault:end -->"]
text = open(doc).read()
block = "\n".join(out)
if "<!-- vault:begin -->" in text:
    a = text.index("<!-- vault:begin -->")
    b = text.index("<!-- vault:end -->") + len("<!-- vault:end -->")
    text = text[:a] + block + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
EOF
  log "wrote the vault section of docs/benchmarks.md"
fi
log "results in $results and $out/summary.tsv"
