#!/usr/bin/env bash
# Builds the browser client (web/, TypeScript) into OUT_DIR (default build/web) with the
# npm packages of web/package-lock.json (installed into web/node_modules only when the
# lock file changed); TESTS_DIR, when given, receives the compiled unit tests.
# Usage: scripts/build-web.sh [OUT_DIR] [TESTS_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/build/web}")"
TESTS="${2:+$(realpath -m "$2")}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "voxcast web: Node.js and npm not found, the web client is not built (apt-get install nodejs npm; then scripts/build-web.sh)" >&2
  exit 1
fi
cd "$ROOT/web"
# One installer at a time (several build directories may build the client at once).
exec 9>"$ROOT/web/.npm-install.lock"
flock -w 600 9
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
node build.mjs --out "$OUT" ${TESTS:+--tests "$TESTS"}
