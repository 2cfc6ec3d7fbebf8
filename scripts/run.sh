#!/usr/bin/env bash
# The main job: set up, build, start the server on the built-in sample (the Colin27 T1
# brain with the AAL atlas from Debian's mricron-data; VOXCAST_DATASET picks another),
# run a headless client that scrubs through z, print its report and save the last frame.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build
mkdir -p out
rm -f out/connection.txt
./build/bin/voxcast-server "${VOXCAST_DATASET:-brain}" --control-port 0 --pixel-port 0 --connection-file out/connection.txt \
  --log-level warn "$@" &
SERVER_PID=$!
trap 'kill -INT $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s out/connection.txt ] && break; sleep 0.1; done
[ -s out/connection.txt ] || { echo "voxcast: the server did not start" >&2; exit 1; }
./build/bin/voxcast-headless --connect "$(cat out/connection.txt)" --scrub z --rate 60 \
  --duration "${VOXCAST_DEMO_SECONDS:-5}" --png out/last-frame.png --dump out/stream.h264
