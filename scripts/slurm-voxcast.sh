#!/usr/bin/env bash
# A Slurm batch job that serves a dataset from a GPU node and prints how to open it in a
# browser on your laptop (one SSH tunnel to the node's control port: page, control and
# pixels all go through it).
#   sbatch scripts/slurm-voxcast.sh /path/to/data.ome.zarr     then: cat voxcast-<jobid>.out
# Environment: VOXCAST_BIN (default: build/bin next to this script), VOXCAST_PORT (default:
# a free port on the node), VOXCAST_LOGIN (the login host your laptop reaches, default:
# the submit host), VOXCAST_DATA_ROOT (what the page may browse, default: the dataset's folder).
#SBATCH --job-name=voxcast
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --time=08:00:00
#SBATCH --output=voxcast-%j.out
set -euo pipefail
DATASET="${1:?usage: sbatch slurm-voxcast.sh DATASET [voxcast-server options]}"
shift
HERE="${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
BIN="${VOXCAST_BIN:-$HERE/build/bin}"
NODE="$(hostname -s)"
LOGIN="${VOXCAST_LOGIN:-${SLURM_SUBMIT_HOST:-login}}"
PORT="${VOXCAST_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
DATA_ROOT="${VOXCAST_DATA_ROOT:-$(dirname "$(realpath "$DATASET")")}"
CONN="$(mktemp -t voxcast-conn.XXXXXX)"
trap 'rm -f "$CONN"' EXIT

# Bound to the node's loopback only: the tunnel (through the login host) is the way in.
"$BIN/voxcast-server" "$DATASET" --host 127.0.0.1 --control-port "$PORT" --pixel-port 0 \
  --data-root "$DATA_ROOT" --connection-file "$CONN" "$@" &
SERVER=$!
for _ in $(seq 1 600); do [ -s "$CONN" ] && break; sleep 0.1; done
[ -s "$CONN" ] || { echo "voxcast: the server did not start" >&2; exit 1; }
# Line 2 of the connection file is the browser URL (on the node's loopback, which the tunnel maps).
URL="$(sed -n 2p "$CONN")"
[ -n "$URL" ] || URL="http://127.0.0.1:$PORT/?token=$(sed -n 's/.*token=\([A-Za-z0-9_-]*\).*/\1/p' "$CONN" | head -1)"
cat <<MSG
voxcast is serving $DATASET on $NODE (job ${SLURM_JOB_ID:-?}).
On your laptop, open the tunnel (keep it open):

    ssh -N -L $PORT:127.0.0.1:$PORT -J $LOGIN $NODE

then open in a browser:

    $URL

(scancel ${SLURM_JOB_ID:-<jobid>} stops it.)
MSG
wait "$SERVER"
