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
  # The checks of .clang-tidy except the static analyser (clang-analyzer-*), which triples
  # the time on two cores; run it by hand with `clang-tidy -p build <file>`. The GCC-only
  # warning flags of the build are unknown to clang and are not errors here.
  echo "== kura: clang-tidy of src/ (.clang-tidy without clang-analyzer-*)"
  run-clang-tidy -quiet -p build -j "$(nproc)" -checks='-clang-analyzer-*' \
    -extra-arg=-Wno-unknown-warning-option "$PWD/src/.*\\.cc\$" >build/clang-tidy.log 2>&1 || true
  # run-clang-tidy 14 has no -warnings-as-errors: any diagnostic in kura's own files fails
  # (its output is coloured even into a file: the escapes are removed first).
  problems=$(sed -E 's/\x1b\[[0-9;]*m//g' build/clang-tidy.log |
    grep -E "^$PWD/(src|include)/.*: (warning|error):" | sort -u || true)
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    echo "kura: clang-tidy found problems (full log: build/clang-tidy.log)" >&2
    exit 1
  fi
fi
echo "kura: style checks passed"
