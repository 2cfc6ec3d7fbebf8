#!/usr/bin/env bash
# Line coverage of the client core (src/client) from its unit and loopback tests:
# a gcov build in build-cov, lcov capture, report in build-cov/coverage/ (HTML) and the
# summary printed. Usage: scripts/coverage.sh [module ...] (default: client).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
MODULES=("${@:-client}")
JOBS=$(nproc)
cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DVOXCAST_COVERAGE=ON >/dev/null
cmake --build build-cov -j "$JOBS" --target client_tests integration_tests
find build-cov -name '*.gcda' -delete
(cd build-cov && ctest --output-on-failure --timeout 180 -j 2 -R '^(Session|Stream|Reconnect|Tls|ClientLoop|LoopState|Screenshot|Dataset|DecodeGate|Mirror|Report|DimsIntent|ClientLedger|FrameLease|Presenter|ClientMetrics)\.')
lcov --quiet --capture --directory build-cov --output-file build-cov/all.info --rc lcov_branch_coverage=0 2>/dev/null
patterns=()
for m in "${MODULES[@]}"; do patterns+=("$PWD/src/$m/*"); done
lcov --quiet --extract build-cov/all.info "${patterns[@]}" --output-file build-cov/modules.info
genhtml --quiet build-cov/modules.info --output-directory build-cov/coverage >/dev/null
lcov --summary build-cov/modules.info
