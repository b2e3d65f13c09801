#!/usr/bin/env bash
# Builds (first run: several minutes) and starts the local cluster, then
# installs the CRDs and the operator.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$BIN"
step "building arl-local"
(cd "$ROOT" && go build -o "$BIN/arl-local" ./tools/cmd/arl-local)
"$BIN/arl-local" up
"$ROOT/tools/scripts/deploy-operator.sh"
