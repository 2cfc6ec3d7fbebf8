# Sourced by the build scripts: one compiler cache outside the clone, shared by every
# checkout on this machine (CI's clean clone reuses a session's cache). Paths are hashed
# relative to the checkout and the working directory is left out of the hash, so two
# checkouts of the same commit compile once.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/voxcast-ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
