#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, build-fuzz/) and runs one of them,
# or each in turn, for SECONDS on its seed corpus (fuzz/corpus/TARGET, never written)
# plus a working corpus (build-fuzz/corpus/TARGET). A crash, leak or hang fails the run
# and leaves its input in build-fuzz/artifacts/ (turn it into a regression test).
# Usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ccache-env.sh
TARGET="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]}"
SECONDS_EACH="${2:?usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]}"
shift 2
ALL=(fuzz_control_server fuzz_control_client fuzz_reducers fuzz_pixel fuzz_zarr_meta fuzz_codecs fuzz_nifti
     fuzz_tiff fuzz_npy_region)
if [ "$TARGET" = all ]; then TARGETS=("${ALL[@]}"); else TARGETS=("$TARGET"); fi
BUILD=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DVOXCAST_FUZZ=ON -DVOXCAST_TESTS=OFF \
  -DVOXCAST_WITH_VIEWER=OFF -DVOXCAST_CUDA=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target "${TARGETS[@]}" >/dev/null
mkdir -p "$BUILD/artifacts"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD/corpus/$t"
  seeds="fuzz/corpus/$t"
  [ -d "$seeds" ] || seeds=""
  echo "fuzz: $t for ${SECONDS_EACH}s"
  # -rss_limit_mb (and the malloc limit it implies): a target that balloons is a finding too.
  rc=0
  "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/$t-" "$@" "$BUILD/corpus/$t" $seeds >"$BUILD/$t.log" 2>&1 || rc=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|ERROR|SUMMARY|Test unit written" "$BUILD/$t.log" || true
  if [ "$rc" -ne 0 ]; then
    tail -40 "$BUILD/$t.log"
    echo "fuzz: $t FAILED (input in $BUILD/artifacts/)"
    exit 1
  fi
done
