# Shared helpers for the scripts in tools/scripts (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN="$ROOT/bin"
export GOFLAGS=-buildvcs=false
export PATH="$BIN:$PATH"
export KUBECONFIG="${KUBECONFIG:-$ROOT/.state/local/kubeconfig}"
_t0=$(date +%s)

# step prints a progress line with the elapsed time since the script started.
step() { printf '==> [%4ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
