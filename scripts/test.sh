#!/usr/bin/env bash
# Installs what is needed, builds kura, and runs every test: unit tests, end-to-end tests
# of the real binary against real PostgreSQL / MariaDB / SQLite / tmpfs, the library tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer, and
# the benchmark smoke run.
#   KURA_TEST_SANITIZE=0  skip the sanitizer pass
#   KURA_TEST_BENCH=0     skip the benchmark smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== kura: running the test suite"
ctest --test-dir build --output-on-failure -j 2 --timeout 900 2>&1 | tee "$log"
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)

if [ "${KURA_TEST_SANITIZE:-1}" = "1" ]; then
  echo "== kura: library tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DKURA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DKURA_BUILD_BENCH=OFF >/dev/null
  asan_targets=()
  for layer in util crypto chunker objstore repo; do
    [ -d "tests/$layer" ] && asan_targets+=("kura_${layer}_tests")
  done
  cmake --build build-asan -j "$(nproc)" --target "${asan_targets[@]}"
  # The backup/restore/verify/prune engine too: its pipeline is the concurrent code.
  asan_targets+=(kura_agent_tests)
  cmake --build build-asan -j "$(nproc)" --target kura_agent_tests
  for t in "${asan_targets[@]}"; do
    echo "-- $t (ASan+UBSan)"
    filter='*'
    [ "$t" = kura_agent_tests ] && filter='*Engine*'
    ASAN_OPTIONS=detect_leaks=1 "build-asan/bin/$t" --gtest_brief=1 --gtest_filter="$filter"
  done
fi

if [ "${KURA_TEST_SANITIZE:-1}" = "1" ]; then
  # Data races (a watchdog signalling a child another thread reaps, the signal watcher, the
  # backup pipeline's threads) are caught only by ThreadSanitizer.
  echo "== kura: library tests under ThreadSanitizer"
  cmake -S . -B build-tsan -G Ninja -DKURA_SANITIZE_THREAD=ON -DCMAKE_BUILD_TYPE=Debug -DKURA_BUILD_BENCH=OFF >/dev/null
  tsan_targets=()
  for layer in util objstore repo agent; do
    [ -d "tests/$layer" ] && tsan_targets+=("kura_${layer}_tests")
  done
  cmake --build build-tsan -j "$(nproc)" --target "${tsan_targets[@]}"
  for t in "${tsan_targets[@]}"; do
    echo "-- $t (TSan)"
    filter='*'
    [ "$t" = kura_agent_tests ] && filter='*Engine*:HookCommand*'
    TSAN_OPTIONS=halt_on_error=1 "build-tsan/bin/$t" --gtest_brief=1 --gtest_filter="$filter"
  done
fi

if [ "${KURA_TEST_BENCH:-1}" = "1" ] && [ -f bench/run.sh ]; then
  echo "== kura: benchmark smoke run (BENCH_SCALE=small; a smoke test, not a timing test)"
  BENCH_SCALE=small BENCH_SMOKE=1 KURA_BIN="$PWD/build/bin/kura" bash bench/run.sh
fi

# The suite's result, from ctest above: "N passed, N failed".
passed=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$summary")
echo "== kura: all tests passed"
echo "tests: $((passed - failed)) passed, $failed failed"
