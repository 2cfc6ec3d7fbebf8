#!/usr/bin/env bash
# Runs on the lent GPU machine over a pack made by scripts/device-pack.sh: the CUDA tests,
# then the 3D and 2D benchmarks named, each with its output kept under $OUT.
# Usage: scripts/device-bench.sh PACK.tar.xz STEP...   (steps: tests orbit orbit-big latency quality cpu)
# Environment: RUN_TIMEOUT (s per run), MODES (orbit-big's modes), FRAME_MS (orbit-big's --frame-ms),
# BENCH (another voxcast-bench, e.g. a baseline build's, run with the pack's libraries), TAG (suffix of
# the output names).
set -euo pipefail
pack="$1"
shift
out="${OUT:-/tmp/voxcast-out}"
mkdir -p "$out"
work="$(mktemp -d)"
tar -C "$work" -xf "$pack"
export LD_LIBRARY_PATH="$work/pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin="$work/pack/bin"
bench="${BENCH:-$bin/voxcast-bench}"
tag="${TAG:-}"
nvidia-smi --query-gpu=name,memory.total,clocks.sm,driver_version --format=csv,noheader | tee "$out/gpu.txt"
nproc | sed 's/^/cores /' | tee -a "$out/gpu.txt"
run() {  # name, command...: the output kept, the tail shown
  local name="$1"
  shift
  echo "== $name: $*"
  local rc=0
  timeout "${RUN_TIMEOUT:-300}" "$@" >"$out/$name.txt" 2>&1 || rc=$?
  { grep -v '^\[' "$out/$name.txt" || true; } | tail -n 40
  echo "== $name rc=$rc"
}
for step in "$@"; do
  case "$step" in
    tests) run cuda-tests "$bin/cuda_tests" --gtest_brief=1 ;;
    orbit)  # a volume that fits: the single texture
      run orbit-256-mip "$bench" orbit-3d --volume-size 256 --renderer cuda --size 1920x1080 --mode mip \
        --json "$out/orbit-256-mip.json" ;;
    orbit-big)  # a 4096^3 procedural pyramid (256 GB logical as float32), zoomed into 256^3
      for mode in ${MODES:-mip translucent}; do
        run "orbit-4096-$mode$tag" "$bench" orbit-3d --volume-size 4096 --levels 5 --renderer cuda \
          --size 1920x1080 --mode "$mode" --cache-mb 8192 ${FRAME_MS:+--frame-ms "$FRAME_MS"} \
          --json "$out/orbit-4096-$mode$tag.json"
      done ;;
    latency) run latency-2d "$bench" latency-2d --baseline-frames 0 --json "$out/latency-2d.json" ;;
    quality) run quality "$bench" quality --size 1920x1080 --json "$out/quality.json" ;;
    cpu)  # the CPU renderer on this machine's cores, for comparison
      run orbit-4096-cpu "$bench" orbit-3d --volume-size 4096 --levels 5 --renderer cpu \
        --size 1920x1080 --mode mip --json "$out/orbit-4096-cpu.json" ;;
    *) echo "unknown step $step" ;;
  esac
done
