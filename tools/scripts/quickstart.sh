#!/usr/bin/env bash
# The main job: start the local cluster (building it on first use), install
# the operator, and run the manual's quick start: a WarmPool, a Sandbox and
# the hello Task, printing the task's stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/tools/scripts/install-deps.sh"
make -C "$ROOT" --no-print-directory local-up

step "kubectl apply -f examples/quickstart/warmpool.yaml sandbox.yaml"
kubectl apply -f "$ROOT/examples/quickstart/warmpool.yaml"
kubectl apply -f "$ROOT/examples/quickstart/sandbox.yaml"
kubectl wait --for=jsonpath='{.status.phase}'=Ready sandbox/my-workspace --timeout=120s
step "kubectl apply -f examples/quickstart/task.yaml"
kubectl delete task hello-task --ignore-not-found --wait=true >/dev/null
kubectl apply -f "$ROOT/examples/quickstart/task.yaml"
kubectl wait --for=jsonpath='{.status.state}'=Succeeded task/hello-task --timeout=60s
kubectl get warmpool,sandbox,task
step "kubectl get task hello-task -o jsonpath='{.status.stdout}'"
kubectl get task hello-task -o jsonpath='{.status.stdout}'
cat <<MSG

The cluster keeps running. Use it with:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN:\$PATH
Stop it with: make local-down
MSG
