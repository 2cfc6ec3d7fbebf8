#!/usr/bin/env bash
# Runs a command on its own Xvfb display (a free number, picked by Xvfb itself), with
# Mesa's software OpenGL; used by the GUI tests so they run on machines without a screen.
set -euo pipefail
fifo="$(mktemp -u)"
mkfifo "$fifo"
Xvfb -displayfd 4 -screen 0 1400x900x24 -nolisten tcp 4>"$fifo" >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r -t 20 display <"$fifo"
export DISPLAY=":$display"
export LIBGL_ALWAYS_SOFTWARE=1
export QT_QPA_PLATFORM=xcb
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
"$@"
