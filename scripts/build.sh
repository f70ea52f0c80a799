#!/usr/bin/env bash
# Configures and builds kura into build/ (binaries in build/bin/).
# KURA_SANITIZE=ON builds with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=()
if [ "${KURA_SANITIZE:-OFF}" = "ON" ]; then
  dir=build-asan
  flags+=(-DKURA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
