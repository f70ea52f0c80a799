#!/usr/bin/env bash
# Builds the Debian packages kura_<version>_<arch>.deb and kura-vault_<version>_<arch>.deb
# into build/packages/ (CPack, cmake/Packaging.cmake): binaries, man pages generated from
# --help (English and Japanese), systemd units, /etc/kura template, maintainer scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh kura kura-vault
cmake --build build --target man_pages
(cd build && cpack -G DEB -B "$PWD/packages" >/dev/null)
ls -1 build/packages/*.deb
