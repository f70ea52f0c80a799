#!/usr/bin/env bash
# Checks that every C++ file is clang-format clean (.clang-format) and that clang-tidy
# (.clang-tidy) reports nothing for the library sources. Needs a configured build/ for
# compile_commands.json (scripts/build.sh makes one).
#   KURA_CHECK_TIDY=0  skip clang-tidy (it takes a few minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.cc' '*.h')
echo "== kura: clang-format check of ${#files[@]} files"
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "kura: these files are not clang-format clean; run: clang-format -i \$(git ls-files '*.cc' '*.h')" >&2
  exit 1
fi

if [ "${KURA_CHECK_TIDY:-1}" = "1" ]; then
  echo "== kura: clang-tidy of src/"
  run-clang-tidy -quiet -p build -j "$(nproc)" -warnings-as-errors='*' \
    "$PWD/src/.*\\.cc\$" >build/clang-tidy.log 2>&1 || {
    grep -E "(warning|error):" build/clang-tidy.log | sort -u >&2 || true
    echo "kura: clang-tidy found problems (full log: build/clang-tidy.log)" >&2
    exit 1
  }
fi
echo "kura: style checks passed"
