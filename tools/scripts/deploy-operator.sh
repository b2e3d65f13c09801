#!/usr/bin/env bash
# Installs the CRDs and the operator (operator/config/default) into the
# cluster of $KUBECONFIG and waits until its webhooks answer. On the local
# cluster the operator image runs the locally built bin/arl-operator.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

step "installing the CRDs and the operator (operator/config/default)"
kubectl apply --server-side --force-conflicts -k "$ROOT/operator/config/default" >/dev/null
kubectl wait --for=condition=Established crd/warmpools.arl.infra.io crd/sandboxes.arl.infra.io crd/tasks.arl.infra.io --timeout=60s >/dev/null
# A restart picks up a rebuilt binary (the image tag does not change locally).
kubectl -n arl-system rollout restart deployment/arl-operator >/dev/null
kubectl -n arl-system rollout status deployment/arl-operator --timeout=180s >/dev/null
step "waiting for the operator's webhooks"
probe='{"apiVersion":"arl.infra.io/v1alpha1","kind":"Task","metadata":{"name":"webhook-probe","namespace":"default"},"spec":{"sandboxRef":"x","steps":[{"name":"a","type":"Command","command":["true"]}]}}'
for _ in $(seq 1 120); do
  if out=$(echo "$probe" | kubectl apply --dry-run=server -f - 2>&1); then
    step "operator ready"
    exit 0
  fi
  sleep 0.5
done
die "the operator's webhook did not answer: $out (see: kubectl logs -n arl-system -l app=arl-operator)"
