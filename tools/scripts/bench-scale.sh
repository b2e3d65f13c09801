#!/usr/bin/env bash
# make bench-scale: the operator at scale on simulated (kwok) nodes. Starts a
# local cluster of its own (instance 3, state .state/scale) with enough
# simulated nodes, runs `arl-bench scale` (100 -> 1k -> 10k sandboxes by
# default; pass arl-bench flags in BENCH_ARGS) and prints its table, then
# stops the cluster (ARL_KEEP_CLUSTER=1 keeps it). docs/performance.md, "Scale".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export ARL_STATE_DIR="${ARL_STATE_DIR:-$ROOT/.state/scale}"
export ARL_LOCAL_INSTANCE="${ARL_LOCAL_INSTANCE:-3}"
export KUBECONFIG="$ARL_STATE_DIR/kubeconfig"
SIM_NODES="${SIM_NODES:-50}"
SIM_PODS_PER_NODE="${SIM_PODS_PER_NODE:-500}"

make --no-print-directory arl-local
step "local cluster (instance $ARL_LOCAL_INSTANCE) + operator + $SIM_NODES simulated nodes of $SIM_PODS_PER_NODE pods"
"$BIN/arl-local" up --sim-nodes "$SIM_NODES" --sim-pods-per-node "$SIM_PODS_PER_NODE"
rc=0
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
go run ./e2e/cmd/arl-bench scale ${BENCH_ARGS:-} || rc=$?
if [ -z "${ARL_KEEP_CLUSTER:-}" ]; then
  "$BIN/arl-local" down --purge
fi
exit "$rc"
