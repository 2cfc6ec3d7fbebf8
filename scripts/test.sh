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
  (cd build-tsan && ctest --output-on-failure --timeout 180 -j 2 -R '^(Session|Stream|Reconnect|Tls|ClientLoop|Screenshot|Dataset|ChunkCache|Multiscale2D|ThreadPool|DecodeGate|Mirror|Report)\.')
fi
