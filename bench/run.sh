#!/usr/bin/env bash
# kura against restic and borg on the same files, in one run (see docs/benchmarks.md).
#
#   bash bench/run.sh                     full run (~1 GB dataset 1); renders docs/benchmarks.md
#   BENCH_SCALE=small bash bench/run.sh   smoke run for CI, a couple of minutes
#
# For each input (dataset 1's pgbench dump; dataset 2's plain dump, custom dump, base
# backup and SQLite copy) and each tool, in this order, interleaving the tools step by
# step so that noise from other work on the machine falls on all of them alike:
#   init; backup of night 1, 2, ... (the night's file hard-linked to one fixed path, so
#   every tool sees a changed file at the same path); an unchanged re-run of the last
#   night; restore of the latest snapshot, compared with cmp; verify with a full data read.
# Wall time and peak RSS (GNU time) of every step, repository size (bytes in its files) after every
# backup. Results: bench/out/$BENCH_SCALE/{steps.tsv,results.json,benchmarks.md};
# the full run also copies the latter to docs/benchmarks.md.
#
# Environment:
#   BENCH_SCALE=small|full      dataset size (default full); see bench/datasets.sh
#   BENCH_TOOLS="kura restic borg"
#   BENCH_INPUTS="pgbench-sql care-sql care-pgcustom care-basebackup care-sqlite"
#   KURA_BIN                    default build/bin/kura; kura is skipped, with a note in
#                               the report, when it is missing or `kura --help` fails
#   CHUNK_SIZES_BIN             default build-bench/bin/chunk_sizes; skipped if missing
#   BENCH_DOCS=0|1              write docs/benchmarks.md (default: 1 for full, 0 for small)
#
# Exit status is non-zero when any step of any tool failed or a restore differed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_SCALE="${BENCH_SCALE:-full}"
export BENCH_SCALE
TOOLS="${BENCH_TOOLS:-kura restic borg}"
INPUTS="${BENCH_INPUTS:-pgbench-sql care-sql care-pgcustom care-basebackup care-sqlite}"
KURA_BIN="${KURA_BIN:-$REPO_ROOT/build/bin/kura}"
CHUNK_SIZES_BIN="${CHUNK_SIZES_BIN:-$REPO_ROOT/build-bench/bin/chunk_sizes}"
if [ "$BENCH_SCALE" = full ]; then BENCH_DOCS="${BENCH_DOCS:-1}"; else BENCH_DOCS="${BENCH_DOCS:-0}"; fi

require_tools restic borg cmp python3
bash "$BENCH_DIR/datasets.sh" || die "building the datasets failed"
data="$BENCH_DIR/data/$BENCH_SCALE"

out="$BENCH_DIR/out/$BENCH_SCALE"
mkdir -p "$out"
steps="$out/steps.tsv"
notes="$out/notes.txt"
chunks="$out/chunk_sizes.jsonl"
printf 'input\ttool\tstep\twall_s\tpeak_rss_kib\texit\trepo_bytes\tinput_bytes\n' >"$steps"
: >"$notes"
: >"$chunks"
failed=0

work="$(mktemp -d /tmp/kura-bench-run.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Benchmark-only secrets, handed to the tools through the environment, never argv.
export RESTIC_PASSWORD="kura-bench-restic" BORG_PASSPHRASE="kura-bench-borg" KURA_PASSWORD="kura-bench-kura"
# Fresh caches and config for every run: nothing carried over from earlier runs.
export XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" BORG_BASE_DIR="$work/borg"
export RESTIC_CACHE_DIR="$work/cache/restic"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no

active_tools=""
for t in $TOOLS; do
  if [ "$t" = kura ]; then
    if [ ! -x "$KURA_BIN" ]; then
      echo "kura not run: no binary at $KURA_BIN (build it, or set KURA_BIN)" >>"$notes"
      log "skipping kura: $KURA_BIN does not exist"
      continue
    fi
    if ! "$KURA_BIN" --help >/dev/null 2>&1; then
      echo "kura not run: '$KURA_BIN --help' failed" >>"$notes"
      log "skipping kura: $KURA_BIN --help failed"
      continue
    fi
  fi
  active_tools="$active_tools $t"
done
log "tools:$active_tools; inputs: $INPUTS"

# The files of one input, night by night.
input_nights() {
  case "$1" in
    pgbench-sql) echo "$data/pgbench/night1.sql" "$data/pgbench/night2.sql" ;;
    care-sql) ls "$data"/care/night*/dump.sql | sort -V ;;
    care-pgcustom) ls "$data"/care/night*/dump.pgcustom | sort -V ;;
    care-basebackup) ls "$data"/care/night*/base.tar | sort -V ;;
    care-sqlite) ls "$data"/care/night*/care.sqlite | sort -V ;;
    *) die "unknown input '$1'" ;;
  esac
}

# tool_cmd TOOL ACTION REPO [ARG [NAME]]: the command line for one step.
tool_cmd() {
  local tool="$1" action="$2" repo="$3" arg="${4:-}" name="${5:-}"
  case "$tool:$action" in
    restic:init) echo restic -q -r "$repo" init --repository-version 2 ;;
    restic:backup) echo restic -q -r "$repo" backup --host kura-bench --compression auto "$arg" ;;
    restic:restore) echo restic -q -r "$repo" restore latest --target "$arg" ;;
    restic:verify) echo restic -q -r "$repo" check --read-data ;;
    # repokey = HMAC-SHA-256 ids + AES-256-CTR: on a CPU with SHA-NI faster than
    # repokey-blake2, and the same primitives as kura's HMAC-SHA-256 / AES-256-GCM.
    borg:init) echo borg init --encryption repokey "$repo" ;;
    borg:backup) echo borg create --compression zstd,3 "$repo::$name" "$arg" ;;
    borg:restore) echo borg extract "$repo::$(borg list --last 1 --format '{archive}' "$repo")" ;;
    borg:verify) echo borg check --verify-data "$repo" ;;
    kura:init) echo "$KURA_BIN" -q init ;;
    kura:backup) echo "$KURA_BIN" -q backup --kind daily "$arg" ;;
    kura:restore) echo "$KURA_BIN" -q restore latest --target "$arg" ;;
    kura:verify) echo "$KURA_BIN" -q verify --read-data ;;
  esac
}

# step INPUT TOOL STEP REPO INPUT_BYTES CMD...: runs CMD under GNU time, records a row.
step() {
  local input="$1" tool="$2" name="$3" repo="$4" in_bytes="$5"
  shift 5
  local m="$work/measure" rc
  : >"$m"
  KURA_REPOSITORY="$repo" measure "$m" "$@" >"$work/step.log" 2>&1
  rc=$?
  read -r wall rss _ <"$m"
  if [ "$rc" -ne 0 ]; then
    failed=1
    log "FAILED: $tool $name on $input (exit $rc):"
    tail -n 20 "$work/step.log" >&2
    echo "$tool failed '$name' on $input (exit $rc): $(tail -n 1 "$work/step.log")" >>"$notes"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$input" "$tool" "$name" "$wall" "$rss" "$rc" \
    "$(size_bytes "$repo")" "$in_bytes" >>"$steps"
  log "$input $tool $name: ${wall}s, $((rss / 1024)) MiB peak, repo $(size_bytes "$repo") B"
  return "$rc"
}

run_input() {
  local input="$1" files nights k tool f base
  files=($(input_nights "$input"))
  nights=${#files[@]}
  [ "$nights" -ge 2 ] || die "input $input has fewer than 2 nights"
  base="$(basename "${files[0]}")"
  local src="$work/src/$input"
  mkdir -p "$src"
  local path="$src/$base"
  declare -A ok
  for tool in $active_tools; do
    mkdir -p "$work/repo/$input"
    step "$input" "$tool" init "$work/repo/$input/$tool" 0 $(tool_cmd "$tool" init "$work/repo/$input/$tool") \
      && ok[$tool]=1 || ok[$tool]=0
  done
  for k in $(seq 1 "$nights") rerun; do
    local name="night$k"
    if [ "$k" = rerun ]; then
      name=rerun
    else
      f="${files[$((k - 1))]}"
      rm -f "$path"
      ln "$f" "$path" 2>/dev/null || cp "$f" "$path"
    fi
    cat "$path" >/dev/null  # the same warm page cache for every tool
    for tool in $active_tools; do
      [ "${ok[$tool]}" = 1 ] || continue
      step "$input" "$tool" "$name" "$work/repo/$input/$tool" "$(size_bytes "$path")" \
        $(tool_cmd "$tool" backup "$work/repo/$input/$tool" "$path" "$name") || ok[$tool]=0
    done
  done
  for tool in $active_tools; do
    [ "${ok[$tool]}" = 1 ] || continue
    local target="$work/restore/$input/$tool" repo="$work/repo/$input/$tool"
    mkdir -p "$target"
    if [ "$tool" = borg ]; then
      (cd "$target" && step "$input" "$tool" restore "$repo" "$(size_bytes "$path")" \
        $(tool_cmd borg restore "$repo")) || ok[$tool]=0
      [ "${ok[$tool]}" = 1 ] || failed=1
    else
      step "$input" "$tool" restore "$repo" "$(size_bytes "$path")" \
        $(tool_cmd "$tool" restore "$repo" "$target") || ok[$tool]=0
    fi
    if [ "${ok[$tool]}" = 1 ]; then
      if ! cmp -s "$path" "$target/${path#/}"; then
        failed=1
        log "MISMATCH: $tool restored $input differently from the original"
        echo "$tool restore of $input differs from the original (cmp)" >>"$notes"
        printf '%s\t%s\trestore-compare\t0\t0\t1\t0\t0\n' "$input" "$tool" >>"$steps"
      fi
    fi
    rm -rf "$target"
  done
  for tool in $active_tools; do
    [ "${ok[$tool]}" = 1 ] || continue
    step "$input" "$tool" verify "$work/repo/$input/$tool" 0 \
      $(tool_cmd "$tool" verify "$work/repo/$input/$tool") || true
  done
  rm -rf "$work/repo/$input" "$src"
}

chunk_sizes() {
  if [ ! -x "$CHUNK_SIZES_BIN" ]; then
    echo "chunk_sizes not run: no binary at $CHUNK_SIZES_BIN (cmake --build build-bench --target chunk_sizes)" >>"$notes"
    return
  fi
  local input files
  for input in $INPUTS; do
    files=($(input_nights "$input"))
    local n=${#files[@]}
    log "chunk_sizes on $input, nights $((n - 1)) and $n"
    "$CHUNK_SIZES_BIN" --json "${files[$((n - 2))]}" "${files[$((n - 1))]}" \
      4K,16K,64K 16K,64K,256K 32K,128K,512K 64K,256K,2M 128K,512K,4M 256K,1M,4M 512K,1M,8M |
      sed "s/^{/{\"input\":\"$input\",/" >>"$chunks" \
      || echo "chunk_sizes failed on $input" >>"$notes"
  done
}

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for input in $INPUTS; do
  run_input "$input"
done
chunk_sizes
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$BENCH_DIR/render.py" --steps "$steps" --notes "$notes" --chunks "$chunks" \
  --json "$out/results.json" --markdown "$out/benchmarks.md" \
  --meta scale="$BENCH_SCALE" started="$started" finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  nproc="$(nproc)" cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)" \
  kernel="$(uname -r)" load_before="$load_before" load_after="$load_after" \
  restic="$(restic version | awk '{print $2}')" borg="$(borg --version | awk '{print $2}')" \
  kura="$( [[ " $active_tools " == *" kura "* ]] && "$KURA_BIN" --version 2>/dev/null | head -n 1 || echo 'not run')" \
  kura_bin="$KURA_BIN" postgresql="$(postgres --version | awk '{print $3}')" sqlite="$(sqlite3 --version | awk '{print $1}')" \
  dataset_stamp="$(cat "$data/STAMP")" \
  || failed=1
if [ "$BENCH_DOCS" = 1 ]; then
  cp "$out/benchmarks.md" "$REPO_ROOT/docs/benchmarks.md"
  log "wrote docs/benchmarks.md"
fi
log "results: $out/results.json, $out/benchmarks.md"
if [ "$failed" -ne 0 ]; then
  log "some steps failed: see $notes"
  exit 1
fi
