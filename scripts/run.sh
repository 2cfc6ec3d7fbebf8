#!/usr/bin/env bash
# The main job: set up, build, start the server on the built-in sample and a client
# that scrubs through z, print a report and save the last frame as a PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build
mkdir -p out
exec ./build/bin/voxcast-demo --duration "${VOXCAST_DEMO_SECONDS:-5}" --png out/last-frame.png --dump out/stream.h264 "$@"
