#!/usr/bin/env bash
# Runs every test: generated-code drift, Go unit and envtest suites of each
# module, then the local cluster with the operator and the end-to-end suites
# (Go e2e of the manual's examples, kubectl-arl and its MCP server, the Python
# SDK's pytest). Installs what it
# needs. Prints a summary; exits non-zero if anything failed.
#   ARL_KEEP_CLUSTER=1  leave the test cluster (KUBECONFIG=.state/test/kubeconfig) running afterwards
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
LOGS="$ROOT/.state/test-logs"
mkdir -p "$LOGS"
declare -a results=()
total_pass=0 total_fail=0

# count_go LOG: top-level test results of `go test -v` output.
count_go() {
  local p f
  p=$(grep -cE '^--- PASS' "$1" || true)
  f=$(grep -cE '^--- FAIL|^FAIL[[:space:]]+github.com/[^ ]+[[:space:]]+\[(build failed|setup failed)\]|^panic:' "$1" || true)
  echo "$p $f"
}

# suite NAME KIND CMD...: runs one suite, tees its log, records counts.
suite() {
  local name=$1 kind=$2; shift 2
  local log="$LOGS/$name.log" rc p f
  step "suite $name: $*"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  case $kind in
    go) read -r p f < <(count_go "$log") ;;
    pytest) local last
            last=$(grep -E '^=+ .*(passed|failed|error|no tests ran).* in ' "$log" | tail -1)
            p=$(grep -oE '[0-9]+ passed' <<<"$last" | grep -oE '[0-9]+' || echo 0)
            f=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$last" | awk '{s+=$1} END {print s+0}') ;;
    check) if [ "$rc" = 0 ]; then p=1 f=0; else p=0 f=1; fi ;;
  esac
  [ -z "$f" ] && f=0
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  results+=("$(printf '%-22s %s  (%s passed, %s failed)' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$p" "$f")")
}

"$ROOT/tools/scripts/install-deps.sh" || die "installing dependencies failed"

suite repo-size check "$ROOT/tools/scripts/check-repo.sh"
suite generated check "$ROOT/tools/scripts/check-generated.sh"
suite generated-test go "$ROOT/tools/scripts/check-generated_test.sh"
# golangci-lint (.golangci.yml, gofmt included) over every Go module, ruff and
# mypy over the SDK.
suite lint check make --no-print-directory lint
step "envtest assets (etcd + kube-apiserver from the local control-plane build)"
make --no-print-directory envtest-assets || die "building the envtest assets failed"
export KUBEBUILDER_ASSETS="$BIN/envtest-assets"
suite go-sidecar go bash -c "cd sidecar && go test -race -count=1 -v ./..."
suite fuzz-sidecar check bash -c "cd sidecar && go test -run '^\$' -fuzz FuzzExecuteJSON -fuzztime 10s -fuzzminimizetime 20x ./internal/serve/ && go test -run '^\$' -fuzz FuzzPath -fuzztime 10s ./internal/files/"
suite go-tools-node go bash -c "cd tools/node && GOWORK=off go test -count=1 -v ./..."
suite go-tools go bash -c "cd tools && GOWORK=off go test -count=1 -v ./..."
suite go-tools-image go bash -c "cd tools/image && GOWORK=off go test -count=1 -v ./..."
suite go-operator go bash -c "cd operator && go test -race -count=1 -v ./..."
suite go-cli go bash -c "cd cli && go test -race -count=1 -v ./..."

suite local-cluster go bash -c "cd tools && GOWORK=off go test -tags e2elocal -count=1 -timeout 30m -v ./e2elocal/"
# The real node (kubelet + containerd + runc) beside the process node
# (up --node=both, instance 3): docs/real-node.md.
suite real-node go bash -c "cd tools && GOWORK=off go test -tags e2erealnode -count=1 -timeout 40m -v ./e2erealnode/"
# The Helm chart on a cluster of its own (instance 4): images pushed to its
# registry, helm install, webhooks through a leader kill, the quick start.
suite e2e-helm go bash -c "make --no-print-directory helm && cd tools && GOWORK=off go test -tags e2ehelm -count=1 -timeout 40m -v ./e2ehelm/"

# The manual's examples on the real node (instance 5, its own state): kubelet +
# containerd + runc, the operator and sidecar from their images through the
# Helm chart, python:3.9-slim pulled from the loopback registry. Tests that
# cannot pass there skip by the explicit list in docs/real-node.md; then the
# real-node checks (e2e/realnode) and the Python SDK's integration tests (all
# pass there). One real node at a time: after real-node.
real=(env ARL_STATE_DIR="$ROOT/.state/test-real" ARL_LOCAL_INSTANCE=5 KUBECONFIG="$ROOT/.state/test-real/kubeconfig" ARL_E2E_NODE=kubelet)
"${real[@]}" "$BIN/arl-local" down --purge >/dev/null 2>&1 || true
step "real-node cluster (instance 5) + operator from its image"
if "${real[@]}" "$BIN/arl-local" up --node=kubelet 2>&1 | tee "$LOGS/real-node-up.log" && [ "${PIPESTATUS[0]}" = 0 ]; then
  suite e2e-real-node go "${real[@]}" bash -c "cd e2e && go test -count=1 -v -timeout 40m ./manual/"
  suite real-node-checks go "${real[@]}" bash -c "cd e2e && go test -tags realnode -count=1 -v -timeout 10m ./realnode/"
  suite sdk-python-real-node pytest "${real[@]}" bash -c "cd sdk/python/arl-client && '$ROOT/.venv/bin/python' -m pytest -v --integration tests/integration"
else
  results+=("real-node-up           FAIL (see $LOGS/real-node-up.log)")
  total_fail=$((total_fail + 1))
fi
"${real[@]}" "$BIN/arl-local" down --purge || true

# The end-to-end suites get a cluster of their own (instance 2, its own
# state, ports, bridge and pod range), so `make test` neither needs nor
# disturbs a developer's cluster from `make local-up`, and starts clean.
export ARL_STATE_DIR="$ROOT/.state/test" ARL_LOCAL_INSTANCE=2 KUBECONFIG="$ROOT/.state/test/kubeconfig"
"$BIN/arl-local" down --purge >/dev/null 2>&1 || true
step "local cluster (instance 2) + operator"
if make --no-print-directory local-up 2>&1 | tee "$LOGS/local-up.log" && [ "${PIPESTATUS[0]}" = 0 ]; then
  suite e2e go bash -c "cd e2e && go test -count=1 -v -timeout 40m ./..."
  suite e2e-cli go bash -c "cd cli && go test -tags e2e -count=1 -v -timeout 15m ./e2e/"
  suite sdk-python pytest bash -c "cd sdk/python/arl-client && '$ROOT/.venv/bin/python' -m pytest -v --integration"
else
  results+=("local-up               FAIL (see $LOGS/local-up.log)")
  total_fail=$((total_fail + 1))
fi
if [ -z "${ARL_KEEP_CLUSTER:-}" ]; then
  "$BIN/arl-local" down --purge || true
fi

echo
echo "==================== summary ===================="
printf '%s\n' "${results[@]}"
echo "logs: $LOGS"
echo "TOTAL: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
