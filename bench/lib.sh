# Shared helpers for bench/datasets.sh and bench/run.sh. Source it; it defines functions
# and a few variables, and runs nothing else.
#
#   pg_start DIR          initdb (if needed) + start a throwaway PostgreSQL 15 cluster in
#                         DIR on 127.0.0.1 and a free port; exports PGHOST PGPORT PGUSER
#   pg_stop DIR           fast shutdown of that cluster
#   measure OUT CMD...    run CMD, append "<wall seconds> <peak RSS KiB> <exit code>" to OUT;
#                         returns CMD's exit code
#   size_bytes PATH...    bytes in the files under PATH (like du -sb, without counting
#                         directory entries: restic pre-creates 256 empty directories)
#   log MSG...            progress line on stderr

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
GNU_TIME=/usr/bin/time
export PATH="$PG_BIN:$PATH"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool '$t' (run scripts/setup.sh)"
  done
  [ -x "$GNU_TIME" ] || die "missing $GNU_TIME: install Debian package 'time' (scripts/setup.sh does)"
  "$GNU_TIME" -f '%e %M' true 2>/dev/null || die "$GNU_TIME does not accept -f (need GNU time)"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster is tuned for loading speed and for reproducibility: no autovacuum (it would
# move tuples between runs and make dumps differ), fsync off (it is thrown away).
pg_start() {
  local dir="$1"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-instructions >"$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log" >&2; die "initdb failed in $dir"; }
  fi
  local port
  port="$(free_port)"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' \
        -c autovacuum=off -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c shared_buffers=256MB -c maintenance_work_mem=256MB -c max_wal_size=4GB \
        -c wal_level=replica -c max_wal_senders=4 -c checkpoint_timeout=1h" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL did not start in $dir"; }
  export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres
  log "PostgreSQL started in $dir on 127.0.0.1:$port"
}

pg_stop() {
  local dir="$1"
  if [ -f "$dir/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
  fi
}

measure() {
  local out="$1"
  shift
  local tf rc
  tf="$(mktemp)"
  "$GNU_TIME" -o "$tf" -f '%e %M' "$@"
  rc=$?
  # GNU time prefixes "Command exited with non-zero status N" when CMD fails.
  echo "$(tail -n 1 "$tf") $rc" >>"$out"
  rm -f "$tf"
  return $rc
}

size_bytes() {
  find "$@" -type f -printf "%s\n" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
