#!/usr/bin/env bash
# Installs everything kura needs to build, test and benchmark on Debian 12 (run as root,
# or with sudo available). Safe to run again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # build
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy python3
  # Debian packages of kura and kura-vault (CPack): man pages from --help, the vault user
  help2man dpkg-dev adduser curl
  # libraries (see docs/adr/0001-dependencies.md)
  libssl-dev libsodium-dev libzstd-dev libsqlite3-dev libpq-dev libmariadb-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libtoml11-dev libcurl4-openssl-dev
  libboost1.81-dev
  # tests: real database servers and their client tools
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-contrib mariadb-server mariadb-client sqlite3
  # benchmarks: kura's peers
  restic borgbackup
  procps psmisc util-linux time
  # tests: the clock-related suites at several times of day; compiler cache for the
  # sanitizer builds (they compile the same sources again)
  faketime ccache
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kura setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "kura setup: all dependencies are installed"
