#!/usr/bin/env bash
# Sets up, builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs every
# test; then builds the threaded parts (server, client, thread pool) with
# ThreadSanitizer and runs their tests again.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/ccache-env.sh
JOBS="$(nproc)"

VOXCAST_BUILD_TYPE=Debug ./scripts/build.sh build-asan -DVOXCAST_SANITIZE=ON
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure --timeout 120 -j 2)

if [ "${VOXCAST_SKIP_TSAN:-0}" != "1" ]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DVOXCAST_TSAN=ON >/dev/null
  cmake --build build-tsan -j "$JOBS" --target integration_tests core_tests client_tests data_tests render_tests
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
  (cd build-tsan && ctest --output-on-failure --timeout 180 -j 2 -R '^(Session|Stream|Reconnect|Tls|ClientLoop|Screenshot|ExactStill|Receipts|RateControl|Dataset|ChunkCache|BrickCopier|Multiscale2D|ThreadPool|DecodeGate|Mirror|Report)\.')
fi

# Fuzzing smoke: every libFuzzer target for 10 s on its seed corpus (clang-14, build-fuzz/).
# A finding is reported (its input kept in build-fuzz/artifacts/); it fails the run only with
# VOXCAST_FUZZ_STRICT=1, so a fresh find in new code does not block everyone at once.
if [ "${VOXCAST_SKIP_FUZZ:-0}" != "1" ]; then
  if ! ./scripts/fuzz.sh all "${VOXCAST_FUZZ_SECONDS:-10}"; then
    echo "voxcast test: the fuzzing smoke found something (build-fuzz/artifacts/); make it a regression test"
    if [ "${VOXCAST_FUZZ_STRICT:-0}" = "1" ]; then exit 1; fi
  fi
fi
