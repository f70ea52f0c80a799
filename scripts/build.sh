#!/usr/bin/env bash
# Configures and builds kura into build/ (binaries in build/bin/). Arguments are targets to
# build (default: everything, tests included), e.g. `scripts/build.sh kura`.
# KURA_SANITIZE=ON builds with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths relative to the clone and no working directory in the hash, so a fresh clone
# anywhere on this machine reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-12G}"
dir=build
flags=()
if command -v ccache >/dev/null; then flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ "${KURA_SANITIZE:-OFF}" = "ON" ]; then
  dir=build-asan
  flags+=(-DKURA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
