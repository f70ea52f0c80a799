#!/usr/bin/env bash
# Builds the benchmark datasets, reproducibly, into bench/data/$BENCH_SCALE/:
#
#   pgbench/night1.sql, night2.sql      dataset 1: pgbench database, plain pg_dump; night 2
#                                       after ~1 % of accounts were updated uniformly
#   care/nightK/dump.sql                dataset 2: care records, plain pg_dump
#   care/nightK/dump.pgcustom           pg_dump --format=custom --compress=0
#   care/nightK/base.tar                pg_basebackup -Ft -X fetch (page images + WAL)
#   care/nightK/care.sqlite             SQLite online backup (.backup) of the same rows
#
# Knobs (environment):
#   BENCH_SCALE=small|full     small: ~20 MB + ~10 MB for CI smoke runs; full (default):
#                              ~1 GB dataset 1, a few hundred MB per dataset-2 file
#   BENCH_NIGHTS=N             nights of dataset 2 (default 3, small 2; dataset 1 has 2)
#   BENCH_PGBENCH_SCALE, BENCH_CARE_VISITS   override the size of either dataset
#   BENCH_REBUILD=1            rebuild even if the stamp says the data is current
#
# Fixed seeds make every plain dump and SQLite file byte-identical between runs on the
# same PostgreSQL/SQLite versions (bench/data/$BENCH_SCALE/SHA256SUMS records them); the
# custom-format dump and the base backup carry timestamps and LSNs, so those two differ in
# a few header bytes only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_SCALE="${BENCH_SCALE:-full}"
case "$BENCH_SCALE" in
  small) d1_scale=2;   d2_visits=20000;  d2_nights=2 ;;
  full)  d1_scale=100; d2_visits=600000; d2_nights=3 ;;
  *) die "BENCH_SCALE must be small or full, not '$BENCH_SCALE'" ;;
esac
d1_scale="${BENCH_PGBENCH_SCALE:-$d1_scale}"
d2_visits="${BENCH_CARE_VISITS:-$d2_visits}"
nights="${BENCH_NIGHTS:-$d2_nights}"
seed=20240601
out="$BENCH_DIR/data/$BENCH_SCALE"

require_tools psql pg_dump pg_basebackup pgbench sqlite3 python3 sha256sum

stamp="$(cat "$BENCH_DIR/datasets.sh" "$BENCH_DIR/gen_care.py" | sha256sum | cut -c1-16)"
stamp="$stamp scale=$d1_scale visits=$d2_visits nights=$nights seed=$seed pg=$("$PG_BIN/postgres" --version | awk '{print $3}')"
if [ "${BENCH_REBUILD:-0}" != 1 ] && [ -f "$out/STAMP" ] && [ "$(cat "$out/STAMP")" = "$stamp" ]; then
  log "datasets in $out are current ($stamp)"
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/pgbench" "$out/care"
work="$(mktemp -d /tmp/kura-bench-data.XXXXXX)"
chmod 755 "$work"
cleanup() {
  pg_stop "$work/pg1" 2>/dev/null || true
  pg_stop "$work/pg2" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Dataset 1. pgbench creates its schema; the rows are those of `pgbench -i` (generated
# server-side, as -I G does) except that the filler is 84 characters of base64 from
# SHA-256 of the aid instead of blanks, so the dump does not compress away.
build_pgbench() {
  pg_start "$work/pg1"
  createdb bench
  log "dataset 1: pgbench scale $d1_scale"
  pgbench -q -i -I dt -s "$d1_scale" bench >"$work/pgbench.log" 2>&1 || { cat "$work/pgbench.log" >&2; die "pgbench -i failed"; }
  psql_q -d bench <<SQL
INSERT INTO pgbench_branches (bid, bbalance) SELECT b, 0 FROM generate_series(1, $d1_scale) b;
INSERT INTO pgbench_tellers (tid, bid, tbalance)
  SELECT t, (t - 1) / 10 + 1, 0 FROM generate_series(1, 10 * $d1_scale) t;
INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
  SELECT a, (a - 1) / 100000 + 1, 0,
         substr(encode(sha256(('f1:$seed:' || a)::bytea), 'base64'), 1, 42) ||
         substr(encode(sha256(('f2:$seed:' || a)::bytea), 'base64'), 1, 42)
  FROM generate_series(1, 100000 * $d1_scale) a;
SQL
  pgbench -q -i -I vp bench >"$work/pgbench.log" 2>&1 || { cat "$work/pgbench.log" >&2; die "pgbench -i failed"; }
  pg_dump --format=plain --restrict-key=kurabench bench >"$out/pgbench/night1.sql"
  # Night 2: ~1 % of accounts, chosen uniformly by a hash of aid, get a new balance, as a
  # day of TPC-B-like transactions would. No VACUUM: the new row versions go to the end
  # of the table, so the dump changes in nearly every 1 MiB region.
  psql_q -d bench <<SQL
UPDATE pgbench_accounts
   SET abalance = abalance + (('x' || substr(md5('d:$seed:' || aid), 1, 8))::bit(32)::int % 5000)
 WHERE ('x' || substr(md5('n2:$seed:' || aid), 1, 8))::bit(32)::int % 100 = 0;
SQL
  pg_dump --format=plain --restrict-key=kurabench bench >"$out/pgbench/night2.sql"
  pg_stop "$work/pg1"
}

build_care() {
  pg_start "$work/pg2"
  createdb care
  local db="$work/care.db"
  log "dataset 2: care records, $d2_visits visits, $nights nights"
  python3 "$BENCH_DIR/gen_care.py" init --visits "$d2_visits" --seed "$seed" --sqlite "$db"
  local k
  for k in $(seq 1 "$nights"); do
    if [ "$k" -ge 2 ]; then
      python3 "$BENCH_DIR/gen_care.py" night --night "$k" --seed "$seed" --sqlite "$db"
    fi
    local d="$out/care/night$k"
    mkdir -p "$d"
    pg_dump --format=plain --restrict-key=kurabench care >"$d/dump.sql"
    pg_dump --format=custom --compress=0 care >"$d/dump.pgcustom"
    rm -rf "$work/bb"
    pg_basebackup -D "$work/bb" -Ft -X fetch --no-manifest -c fast
    mv "$work/bb/base.tar" "$d/base.tar"
    sqlite3 "$db" ".backup '$d/care.sqlite'"
    log "dataset 2: night $k written"
  done
  pg_stop "$work/pg2"
}

build_pgbench
build_care
(cd "$out" && find . -type f ! -name SHA256SUMS ! -name STAMP | sort | xargs sha256sum >SHA256SUMS)
echo "$stamp" >"$out/STAMP"
du -sh "$out"/pgbench/* "$out"/care/night*/* | sed 's/^/  /' >&2
log "datasets ready in $out"
