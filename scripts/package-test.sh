#!/usr/bin/env bash
# Installs the Debian packages built by scripts/package.sh with dpkg on this machine, runs
# the installed binaries as an operator would (kura-vault init as the kura-vault system user,
# `kura-vault serve` when this version has it), and removes them again. Needs root.
# Leaves no package installed; /var/lib/kura-vault of this test is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
pkgs=(build/packages/kura_*.deb build/packages/kura-vault_*.deb)
for p in "${pkgs[@]}"; do [ -f "$p" ] || { echo "kura: $p missing; run scripts/package.sh" >&2; exit 1; }; done

cleanup() {
  $SUDO dpkg --purge kura kura-vault >/dev/null 2>&1 || true
  $SUDO rm -rf /var/lib/kura-vault-pkgtest
}
trap cleanup EXIT
cleanup

echo "== packages: contents"
for p in "${pkgs[@]}"; do dpkg-deb --info "$p" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p'; done
# The listings are read whole: `grep -q` on a pipe would cut dpkg-deb off (SIGPIPE).
agent_files=$(dpkg-deb --contents build/packages/kura_*.deb)
vault_files=$(dpkg-deb --contents build/packages/kura-vault_*.deb)
for f in ./usr/bin/kura ./usr/share/man/man1/kura.1.gz ./usr/share/man/ja/man1/kura.1.gz \
  ./lib/systemd/system/kura-agent.service ./etc/kura/agent.toml.example; do
  grep -q -- " $f\$" <<<"$agent_files" || { echo "kura: the kura package lacks $f" >&2; exit 1; }
done
for f in ./usr/bin/kura-vault ./usr/share/man/man1/kura-vault.1.gz ./usr/share/man/ja/man1/kura-vault.1.gz \
  ./lib/systemd/system/kura-vault.service; do
  grep -q -- " $f\$" <<<"$vault_files" || { echo "kura: the kura-vault package lacks $f" >&2; exit 1; }
done

echo "== packages: install with dpkg"
$SUDO dpkg -i "${pkgs[@]}"
test "$(stat -c %a /var/lib/kura)" = 700
getent passwd kura-vault >/dev/null
test "$(stat -c %U /var/lib/kura-vault)" = kura-vault
/usr/bin/kura --version
/usr/bin/kura-vault --version
if command -v man >/dev/null; then
  page=$(KURA_LANG=en man -P cat kura 2>/dev/null || true)
  grep -q "tamper-resistant" <<<"$page" || { echo "kura: man kura does not show the installed page" >&2; exit 1; }
fi

echo "== packages: kura reads the installed agent.toml template"
set +e
/usr/bin/kura --lang en status --agent-config /etc/kura/agent.toml.example >/tmp/kura-pkg-status.txt 2>&1
rc=$?
set -e
# 0: no warning, 10: a warning is active (nothing has run yet). 2 would be a broken template.
if [ "$rc" != 0 ] && [ "$rc" != 10 ]; then cat /tmp/kura-pkg-status.txt >&2; exit 1; fi

echo "== packages: kura-vault init as the kura-vault user"
data=/var/lib/kura-vault-pkgtest
$SUDO install -d -m 0750 -o kura-vault -g kura-vault "$data"
# setpriv execs the command itself (no session wrapper), so a signal reaches kura-vault.
as_vault=(setpriv --reuid=kura-vault --regid=kura-vault --init-groups --)
[ -n "$SUDO" ] && as_vault=(sudo -u kura-vault)
"${as_vault[@]}" env KURA_VAULT_DATA_DIR="$data" KURA_ARGON2_MEM_KIB=8192 KURA_ARGON2_OPS=1 \
  /usr/bin/kura-vault --json init --operator pkgtest.operator >/tmp/kura-pkg-init.json
grep -q '"initial_password"' /tmp/kura-pkg-init.json
rm -f /tmp/kura-pkg-init.json
"${as_vault[@]}" env KURA_VAULT_DATA_DIR="$data" /usr/bin/kura-vault audit verify

if /usr/bin/kura-vault serve --help >/dev/null 2>&1; then
  echo "== packages: kura-vault serve from the installed package"
  "${as_vault[@]}" env KURA_VAULT_DATA_DIR="$data" /usr/bin/kura-vault --json serve --listen 127.0.0.1:0 \
    >/tmp/kura-pkg-serve.out 2>/tmp/kura-pkg-serve.err &
  pid=$!
  for _ in $(seq 1 100); do grep -q '127.0.0.1' /tmp/kura-pkg-serve.out 2>/dev/null && break; sleep 0.1; done
  addr=$(grep -o '127\.0\.0\.1:[0-9]*' /tmp/kura-pkg-serve.out | head -n 1)
  [ -n "$addr" ] || { cat /tmp/kura-pkg-serve.err >&2; kill "$pid"; exit 1; }
  curl -sk "https://$addr/v1/health" | grep -q '"ok"'
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { echo "kura: kura-vault serve ended with $rc after SIGTERM" >&2; cat /tmp/kura-pkg-serve.err >&2; exit 1; }
  grep -q "stopped" /tmp/kura-pkg-serve.err
fi

echo "== packages: remove keeps the vault's data"
$SUDO dpkg -r kura-vault kura
test -d /var/lib/kura-vault
echo "kura: packages install, run and remove cleanly"
