#!/usr/bin/env bash
# Installs what is needed, builds kura, and runs its main job on embedded defaults: a local
# repository, a backup of a sample directory and of a SQLite database taken while in use,
# the list of snapshots, a restore, and a byte-for-byte comparison. No service to set up.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh kura

KURA="$PWD/build/bin/kura"
work="$PWD/build/demo"
rm -rf "$work"
mkdir -p "$work/sample/records" "$work/sample/scans"

# A sample office: a few documents and a SQLite database of care records.
printf '利用者台帳\n山田 太郎, 要介護2\n佐藤 花子, 要支援1\n' > "$work/sample/records/residents.csv"
head -c 3000000 /dev/urandom > "$work/sample/scans/scan-0001.pdf"
sqlite3 "$work/care.db" <<'SQL'
CREATE TABLE care_notes(id INTEGER PRIMARY KEY, resident TEXT, note TEXT, at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000)
INSERT INTO care_notes(resident, note, at)
SELECT '利用者' || (i % 50), '食事介助 全量摂取。バイタル安定。記録番号 ' || i, datetime('2026-11-01', '+' || i || ' minutes') FROM n;
SQL

export KURA_REPOSITORY="$work/repo"
export KURA_CACHE_DIR="$work/cache"
umask 077
head -c 24 /dev/urandom | base64 > "$work/password"
export KURA_PASSWORD_FILE="$work/password"

cat > "$work/agent.toml" <<TOML
state_dir = "$work/state"
log_file = "$work/state/kura.log"

[[job]]
name = "care-db"
kinds = ["daily", "monthly", "manual"]
[job.source]
kind = "sqlite"
path = "$work/care.db"
[[job.target]]
name = "local"
repository = "$work/repo"
password_file = "$work/password"
TOML
export KURA_AGENT_CONFIG="$work/agent.toml"

echo "== 1. リポジトリを作成 (create the repository)"
"$KURA" init
echo "== 2. サンプルディレクトリをバックアップ (back up the sample directory)"
"$KURA" backup --kind daily "$work/sample"
echo "== 3. SQLite データベースをバックアップ (back up the SQLite database, online backup API)"
if "$KURA" run --help >/dev/null 2>&1; then
  "$KURA" run care-db --kind manual
else
  "$KURA" backup --kind manual "$work/care.db"
fi
echo "== 4. スナップショットの一覧 (list snapshots)"
"$KURA" snapshots
echo "== 5. 復元して比較 (restore and compare)"
"$KURA" restore "$("$KURA" snapshots --json | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["kind"]=="daily"][-1])')" --target "$work/restored"
diff -r "$work/sample" "$work/restored${work}/sample"
echo "   サンプルディレクトリ: 一致 (identical)"
"$KURA" restore latest --target "$work/restored-db"
restored_db=$(find "$work/restored-db" -type f | head -n 1)
if [ "$(sqlite3 "$restored_db" 'PRAGMA integrity_check; SELECT count(*) FROM care_notes;' | tr '\n' ' ')" = "ok 20000 " ]; then
  echo "   SQLite データベース: 整合性 OK, 20000 行 (integrity ok, 20000 rows)"
else
  echo "   SQLite database restore check FAILED" >&2
  exit 1
fi
echo "== 6. 検査 (verify --read-data)"
"$KURA" verify --read-data
echo "== demo finished: everything restored byte for byte"
