#!/usr/bin/env bash
# Packs built binaries for a machine without this one's packages (the lent GPU machine):
# stripped copies of the named binaries and every shared library they load except glibc's
# and the GPU driver's, in one .tar.xz. Unpack there and run with LD_LIBRARY_PATH=lib:
#   tar xf pack.tar.xz && LD_LIBRARY_PATH=$PWD/pack/lib pack/bin/voxcast-bench ...
# Usage: scripts/device-pack.sh OUT.tar.xz BINARY...
set -euo pipefail
out="$1"
shift
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/pack/bin" "$stage/pack/lib"
for bin in "$@"; do
  cp "$bin" "$stage/pack/bin/"
  strip --strip-unneeded "$stage/pack/bin/$(basename "$bin")"
  # glibc (libc, libm, ld-linux, ...) and the driver (libcuda, libnvidia-*) come from there.
  ldd "$bin" | awk '/=> \// {print $3}' |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libcuda|libnvidia[^/]*)\.so' |
    while read -r lib; do
      [ -e "$stage/pack/lib/$(basename "$lib")" ] && continue
      cp -L "$lib" "$stage/pack/lib/"
      strip --strip-unneeded "$stage/pack/lib/$(basename "$lib")" 2>/dev/null || true
    done
done
tar -C "$stage" -cJf "$out" pack
du -h "$out"
