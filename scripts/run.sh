#!/usr/bin/env bash
# The main job: set up, build, start the server on the built-in sample (the Colin27 T1
# brain with the AAL atlas from Debian's mricron-data; VOXCAST_DATASET picks another),
# then the client: the desktop viewer where a display exists (until its window is
# closed), otherwise a headless client that scrubs through z, prints its report and saves
# the last frame. VOXCAST_HEADLESS=1 forces the headless client; VOXCAST_CLIENT=browser
# starts no client and serves the printed browser address until Ctrl+C.
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
CONNECTION="$(sed -n 1p out/connection.txt)"
BROWSER_URL="$(sed -n 2p out/connection.txt)"
if [ -f build/web/index.html ]; then
  echo "voxcast: open in a browser: $BROWSER_URL"
else
  echo "voxcast: the web client is not built (scripts/build-web.sh; needs Node.js and npm)"
fi
if [ "${VOXCAST_CLIENT:-}" = "browser" ]; then
  echo "voxcast: serving until Ctrl+C"
  wait $SERVER_PID
elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${VOXCAST_HEADLESS:-0}" != "1" ] && [ -x build/bin/voxcast-viewer ]; then
  echo "voxcast: opening the viewer (close its window to stop)"
  ./build/bin/voxcast-viewer "$CONNECTION"
else
  ./build/bin/voxcast-headless --connect "$CONNECTION" --scrub z --rate 60 \
    --duration "${VOXCAST_DEMO_SECONDS:-5}" --png out/last-frame.png --dump out/stream.h264
fi
