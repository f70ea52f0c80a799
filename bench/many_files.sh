#!/usr/bin/env bash
# Peak memory with very many files: kura beside restic (and borg) on one tree of
# BENCH_FILES small files, in one run (ARCHITECTURE decision 8, hardening issue §6).
#
#   bash bench/many_files.sh                      1,000,000 files; writes docs/benchmarks-many-files.md
#   BENCH_FILES=20000 bash bench/many_files.sh    the CI smoke size (a minute)
#
# Steps per tool, each under GNU time (wall seconds, peak RSS): backup of the tree, an
# unchanged second backup, listing the snapshot, restore (compared with the tree by a
# checksum of every file), verify with a full data read. kura's target: every step under
# 150 MiB peak RSS at 1,000,000 files; the script fails when a kura step exceeds
# BENCH_RSS_LIMIT_MIB (default 150).
#
# Environment:
#   BENCH_FILES        number of files (default 1000000), in directories of 1,000
#   BENCH_TOOLS        default "kura restic" (borg is slow on this case; add it by hand)
#   BENCH_WORK         where the tree, repositories and restores go (default: /dev/shm
#                      when it has room, else /tmp); needs ~5 KiB per file for each copy
#   BENCH_DOCS=0|1     write docs/benchmarks-many-files.md (default 1 at >= 1,000,000 files)
#   KURA_BIN           default build/bin/kura
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES="${BENCH_FILES:-1000000}"
TOOLS="${BENCH_TOOLS:-kura restic}"
LIMIT_MIB="${BENCH_RSS_LIMIT_MIB:-150}"
KURA_BIN="${KURA_BIN:-$REPO_ROOT/build/bin/kura}"
if [ "$FILES" -ge 1000000 ]; then BENCH_DOCS="${BENCH_DOCS:-1}"; else BENCH_DOCS="${BENCH_DOCS:-0}"; fi
[ -x "$KURA_BIN" ] || die "no kura binary at $KURA_BIN"
require_tools python3 restic

need_kib=$((FILES * 5 * 3))
if [ -z "${BENCH_WORK:-}" ]; then
  shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
  if [ -n "$shm_free" ] && [ "$shm_free" -gt "$need_kib" ]; then BENCH_WORK=/dev/shm; else BENCH_WORK=/tmp; fi
fi
work="$(mktemp -d "$BENCH_WORK/kura-many.XXXXXX")"
trap 'rm -rf "$work"' EXIT
out="$BENCH_DIR/out/many-files-$FILES"
mkdir -p "$out"
steps="$out/steps.tsv"
printf 'tool\tstep\twall_s\tpeak_rss_kib\texit\n' >"$steps"

export RESTIC_PASSWORD="kura-bench-restic" BORG_PASSPHRASE="kura-bench-borg" KURA_PASSWORD="kura-bench-kura"
export XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" BORG_BASE_DIR="$work/borg"
export RESTIC_CACHE_DIR="$work/cache/restic" KURA_CACHE_DIR="$work/cache/kura"

# The tree: directories of 1,000 files of 40-600 bytes of text, every file different (a
# clinic's scanned-form index, a care office's per-resident notes), so dedup cannot hide
# the per-file cost.
log "making $FILES files under $work/tree"
python3 - "$work/tree" "$FILES" <<'EOF'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261202)
words = "記録 介護 看護 食事 入浴 排泄 服薬 体温 血圧 脈拍 reception visit note billing".split()
for i in range(n):
    d = os.path.join(root, f"r{i // 1000:04d}")
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    body = f"{i:07d} " + " ".join(rng.choice(words) for _ in range(rng.randint(4, 60))) + "\n"
    with open(os.path.join(d, f"n{i % 1000:03d}.txt"), "w", encoding="utf-8") as f:
        f.write(body)
EOF
tree_sum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1); }
expected="$(tree_sum "$work/tree")"

failed=0
step() {
  local tool="$1" name="$2"
  shift 2
  local m="$work/measure" rc wall rss
  : >"$m"
  measure "$m" "$@" >"$work/step.log" 2>&1
  rc=$?
  read -r wall rss _ <"$m"
  printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$name" "$wall" "$rss" "$rc" >>"$steps"
  log "$tool $name: ${wall}s, $((rss / 1024)) MiB peak, exit $rc"
  if [ "$rc" -ne 0 ]; then
    failed=1
    tail -n 5 "$work/step.log" >&2
  fi
  if [ "$tool" = kura ] && [ "$rss" -gt $((LIMIT_MIB * 1024)) ]; then
    failed=1
    log "kura $name peaked at $((rss / 1024)) MiB, over the $LIMIT_MIB MiB target"
  fi
}

for tool in $TOOLS; do
  repo="$work/repo-$tool" target="$work/restore-$tool"
  case "$tool" in
    kura)
      export KURA_REPOSITORY="$repo"
      step kura init "$KURA_BIN" -q init
      step kura backup "$KURA_BIN" -q backup --kind daily "$work/tree"
      step kura backup-unchanged "$KURA_BIN" -q backup --kind daily "$work/tree"
      step kura ls sh -c "'$KURA_BIN' ls latest >/dev/null"
      step kura restore "$KURA_BIN" -q restore latest --target "$target"
      step kura verify "$KURA_BIN" -q verify --read-data
      ;;
    restic)
      step restic init restic -q -r "$repo" init
      step restic backup restic -q -r "$repo" backup --host bench "$work/tree"
      step restic backup-unchanged restic -q -r "$repo" backup --host bench "$work/tree"
      step restic ls sh -c "restic -q -r '$repo' ls latest >/dev/null"
      step restic restore restic -q -r "$repo" restore latest --target "$target"
      step restic verify restic -q -r "$repo" check --read-data
      ;;
    borg)
      step borg init borg init --encryption repokey "$repo"
      step borg backup borg create --compression zstd,3 "$repo::n1" "$work/tree"
      step borg backup-unchanged borg create --compression zstd,3 "$repo::n2" "$work/tree"
      step borg ls sh -c "borg list '$repo::n2' >/dev/null"
      mkdir -p "$target"
      (cd "$target" && step borg restore borg extract "$repo::n2")
      step borg verify borg check --verify-data "$repo"
      ;;
  esac
  got="$(tree_sum "$target/${work#/}/tree" 2>/dev/null)"
  if [ "$got" != "$expected" ]; then
    failed=1
    log "MISMATCH: $tool restored a different tree"
    printf '%s\trestore-compare\t0\t0\t1\n' "$tool" >>"$steps"
  fi
  rm -rf "$repo" "$target"
done

python3 - "$steps" "$FILES" "$LIMIT_MIB" "$out/benchmarks-many-files.md" <<'EOF'
import sys, csv, datetime, os
steps, files, limit, md = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = list(csv.DictReader(open(steps, encoding="utf-8"), delimiter="\t"))
tools = sorted({r["tool"] for r in rows}, key=lambda t: ["kura", "restic", "borg"].index(t))
names = ["backup", "backup-unchanged", "ls", "restore", "verify"]
by = {(r["tool"], r["step"]): r for r in rows}
out = [f"# Peak memory with {files:,} files", "",
       f"Generated by `bench/many_files.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC "
       f"({os.cpu_count()} cores). One tree of {files:,} small files (40–600 bytes each, all different) "
       "in directories of 1,000; each tool backs it up, backs it up again unchanged, lists the "
       "snapshot, restores it (checked against the tree) and verifies with a full data read. "
       f"kura's target (hardening issue §6): every step under {limit} MiB peak RSS.", "",
       "| step | " + " | ".join(f"{t} peak RSS | {t} wall" for t in tools) + " |",
       "|---|" + "---|---|" * len(tools)]
for n in names:
    cells = []
    for t in tools:
        r = by.get((t, n))
        if not r:
            cells += ["–", "–"]
            continue
        mib = int(r["peak_rss_kib"]) / 1024
        ok = "" if r["exit"] == "0" else " (failed)"
        cells += [f"{mib:.0f} MiB{ok}", f"{float(r['wall_s']):.0f} s"]
    out.append(f"| {n} | " + " | ".join(cells) + " |")
kura = [int(by[("kura", n)]["peak_rss_kib"]) for n in names if ("kura", n) in by]
if kura:
    worst = max(kura) / 1024
    verdict = "met" if worst <= limit else "NOT met"
    out += ["", f"kura's highest peak: {worst:.0f} MiB — target ≤ {limit} MiB **{verdict}**."]
bad = [r for r in rows if r["step"] == "restore-compare"]
if bad:
    out += ["", "Restore differed from the tree for: " + ", ".join(r["tool"] for r in bad)]
open(md, "w", encoding="utf-8").write("\n".join(out) + "\n")
EOF
if [ "$BENCH_DOCS" = 1 ]; then
  cp "$out/benchmarks-many-files.md" "$REPO_ROOT/docs/benchmarks-many-files.md"
  log "wrote docs/benchmarks-many-files.md"
fi
log "results: $out/benchmarks-many-files.md"
exit "$failed"
