#!/usr/bin/env bash
# Installs what is needed, builds kura, and runs every test: unit tests, end-to-end tests
# of the real binary against real PostgreSQL / MariaDB / SQLite / tmpfs, the library tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer, and the benchmark smoke run.
#   KURA_TEST_SANITIZE=0  skip the sanitizer passes (ASan+UBSan, TSan)
#   KURA_TEST_BENCH=0     skip the benchmark smoke run
#   KURA_TEST_STYLE=0     skip the clang-format / clang-tidy checks
#   KURA_TEST_PACKAGES=0  skip building and installing the Debian packages (needs root or sudo)
#   KURA_TEST_LABELS=...  run only the ctest labels given (e.g. "unit|agent"; see cmake/KuraHelpers.cmake)
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths relative to the clone and no working directory in the hash, so a fresh clone
# anywhere on this machine reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-12G}"

bash scripts/setup.sh
bash scripts/build.sh
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

if [ "${KURA_TEST_STYLE:-1}" = "1" ]; then
  bash scripts/check-style.sh
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== kura: running the test suite"
label_args=()
[ -n "${KURA_TEST_LABELS:-}" ] && label_args=(-L "$KURA_TEST_LABELS")
ctest --test-dir build --output-on-failure -j 2 --timeout 900 "${label_args[@]}" 2>&1 | tee "$log"
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)

# The suites that depend on the time of day take a fake clock; run them again with the
# process clock moved to several times of day in Tokyo (inside and outside the 22:00-06:00
# send window, across midnight and a month end) to prove they do not depend on it.
# Only these suites: faketime also shifts file times and timeouts.
echo "== kura: clock-related agent suites under faketime"
clock_suites='JobRunnerTest.*:ScheduleTest.*:SendQueueTest.*:StatusFileTest.*:RunLogTest.*:*Overdue*:*Drill*'
for at in "2026-11-21 12:00:00" "2026-11-21 23:30:00" "2026-11-22 03:00:00" "2026-11-30 23:59:30" "2026-12-31 22:10:00"; do
  echo "-- faketime @$at (Asia/Tokyo)"
  TZ=Asia/Tokyo faketime -f "@$at" build/bin/kura_agent_tests --gtest_brief=1 --gtest_filter="$clock_suites"
done

if [ "${KURA_TEST_SANITIZE:-1}" = "1" ]; then
  echo "== kura: library tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DKURA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DKURA_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  asan_targets=()
  for layer in util crypto chunker objstore repo net vault; do
    [ -d "tests/$layer" ] && asan_targets+=("kura_${layer}_tests")
  done
  cmake --build build-asan -j "$(nproc)" --target "${asan_targets[@]}"
  # The backup/restore/verify/prune engine too: its pipeline is the concurrent code.
  asan_targets+=(kura_engine_tests)
  cmake --build build-asan -j "$(nproc)" --target kura_engine_tests
  for t in "${asan_targets[@]}"; do
    echo "-- $t (ASan+UBSan)"
    filter='*'
    [ "$t" = kura_engine_tests ] && filter='*Engine*:SendPacks*'
    ASAN_OPTIONS=detect_leaks=1 "build-asan/bin/$t" --gtest_brief=1 --gtest_filter="$filter"
  done

  echo "== kura: concurrent code under ThreadSanitizer"
  cmake -S . -B build-tsan -G Ninja -DKURA_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DKURA_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  cmake --build build-tsan -j "$(nproc)" --target kura_util_tests kura_objstore_tests kura_engine_tests kura_agent_tests kura_net_tests
  # util: the thread pool, bounded queue, processes; objstore: locks; agent: the
  # backup/restore pipelines, the hook watchdog, concurrent status updates.
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/bin/kura_util_tests --gtest_brief=1
  TSAN_OPTIONS="halt_on_error=1" build-tsan/bin/kura_objstore_tests --gtest_brief=1
  # net: the HTTPS server's accept loop, connections and handler workers.
  TSAN_OPTIONS="halt_on_error=1" build-tsan/bin/kura_net_tests --gtest_brief=1
  TSAN_OPTIONS="halt_on_error=1" build-tsan/bin/kura_engine_tests --gtest_brief=1 --gtest_filter='*Engine*'
  TSAN_OPTIONS="halt_on_error=1" build-tsan/bin/kura_agent_tests --gtest_brief=1 \
    --gtest_filter='HookCommand*:StatusFileTest.*:SendQueueTest.*'
fi

if [ "${KURA_TEST_BENCH:-1}" = "1" ] && [ -f bench/run.sh ]; then
  echo "== kura: benchmark smoke run (BENCH_SCALE=small; a smoke test, not a timing test)"
  BENCH_SCALE=small BENCH_SMOKE=1 KURA_BIN="$PWD/build/bin/kura" bash bench/run.sh
  echo "== kura: many-files memory smoke run (20,000 files; fails above 150 MiB peak RSS)"
  BENCH_FILES=20000 BENCH_TOOLS=kura KURA_BIN="$PWD/build/bin/kura" bash bench/many_files.sh
  echo "== kura: agent → kura-vault smoke run (64 MiB, 4 agents; a smoke test, not a timing test)"
  BENCH_VAULT_MB=64 BENCH_AGENTS=4 BENCH_AGENT_MB=4 KURA_BIN="$PWD/build/bin/kura" \
    KURA_VAULT_BIN="$PWD/build/bin/kura-vault" bash bench/vault.sh
fi

if [ "${KURA_TEST_PACKAGES:-1}" = "1" ]; then
  if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
    echo "== kura: Debian packages (build, install with dpkg, run, remove)"
    bash scripts/package.sh
    bash scripts/package-test.sh
  else
    echo "== kura: Debian packages skipped: installing them needs root or passwordless sudo"
  fi
fi

# The suite's result, from ctest above: "N passed, N failed".
passed=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$summary")
echo "== kura: all tests passed"
echo "tests: $((passed - failed)) passed, $failed failed"
