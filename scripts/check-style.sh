#!/usr/bin/env bash
# Checks that every C++ file is clang-format clean (.clang-format) and that clang-tidy
# (.clang-tidy) reports nothing for the library sources. Needs a configured build/ for
# compile_commands.json (scripts/build.sh makes one).
#   KURA_CHECK_TIDY=0  skip clang-tidy (it takes a few minutes on two cores)
#   KURA_TIDY_CACHE=off  check every file again (default: files clean before are skipped)
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
  # scripts/tidy-cached.py: parallel, and a file found clean with the same inputs before
  # (its bytes, every header, .clang-tidy, the compile command) is not checked again.
  if ! python3 scripts/tidy-cached.py build build/clang-tidy.log; then
    echo "kura: clang-tidy found problems (full log: build/clang-tidy.log)" >&2
    exit 1
  fi
fi
echo "kura: style checks passed"
