#!/usr/bin/env bash
# Installs the Debian 12 packages voxcast needs, only those that are missing.
# `--bench` adds the incumbents the benchmarks compare against (ParaView's pvbatch for
# `voxcast-bench vs-paraview`, ~440 MB), which the tests never need.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config ccache
  libboost-dev nlohmann-json3-dev libcli11-dev
  libavcodec-dev libavutil-dev ffmpeg libffmpeg-nvenc-dev
  libpng-dev libjpeg62-turbo-dev zlib1g-dev libssl-dev
  libgtest-dev libbenchmark-dev
  libblosc-dev libzstd-dev libtiff-dev libcurl4-openssl-dev
  nginx-light openssl
  mricron-data
  python3-zarr python3-numcodecs python3-tifffile python3-nibabel python3-numpy python3-pil
  lcov
  clang-14 libclang-rt-14-dev
  qt6-base-dev libqt6opengl6-dev libgl-dev libegl-dev libxkbcommon-dev
  xvfb xauth libgl1-mesa-dri libegl-mesa0 fonts-dejavu-core
  nodejs chromium
)
if [ "${1:-}" = "--bench" ]; then PACKAGES+=(paraview python3-paraview); fi
# npm comes with NodeSource's nodejs; with Debian's nodejs it is a package of its own.
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "voxcast setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Test tooling from npm: zarrita, the independent Zarr v3 writer/reader of the data tests.
ZARRITA_DIR="$(dirname "$0")/../tests/data/zarrita"
if [ ! -f "$ZARRITA_DIR/node_modules/zarrita/package.json" ] || [ "$ZARRITA_DIR/package-lock.json" -nt "$ZARRITA_DIR/node_modules" ]; then
  echo "voxcast setup: npm ci in tests/data/zarrita"
  (cd "$ZARRITA_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
# Test tooling from npm: s3rver, the S3-compatible server of the store integration tests.
STORES_DIR="$(dirname "$0")/../tests/stores"
if [ ! -f "$STORES_DIR/node_modules/s3rver/package.json" ] || [ "$STORES_DIR/package-lock.json" -nt "$STORES_DIR/node_modules" ]; then
  echo "voxcast setup: npm ci in tests/stores"
  (cd "$STORES_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
