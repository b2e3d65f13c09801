# ARL: the front door. Targets stay thin and call scripts under tools/scripts.
SHELL := /usr/bin/env bash
BIN := $(CURDIR)/bin
export GOFLAGS := -buildvcs=false

.PHONY: help run test deploy-operator bench bench-sidecar bench-scale bench-tasks bench-cli install-plugin lint lint-go lint-sdk \
	generate proto-tools proto manifests sdk-python api-docs gazelle check-generated

include tools/local.mk
include tools/image/image.mk
include charts/charts.mk
include operator/Makefile

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

run: ## the main job: local cluster + operator + the manual's quick start
	tools/scripts/quickstart.sh

test: ## every test: drift checks, Go unit + envtest, local cluster e2e, Python SDK
	tools/scripts/test-all.sh

deploy-operator: ## (re)install the CRDs and the operator into $$KUBECONFIG's cluster
	tools/scripts/deploy-operator.sh

lint: lint-go lint-sdk ## golangci-lint on the Go modules (.golangci.yml), ruff and mypy on the SDK

# golangci-lint is pinned in tools/codegen like the other generators.
$(BIN)/golangci-lint: tools/codegen/go.mod
	GOWORK=off go -C tools/codegen build -o $(BIN)/ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# Every Go module: those of go.work, and the standalone ones under tools/
# (built with GOWORK=off, as their own Makefile targets build them): the
# linters (run), then the formatters (fmt --diff: gofmt; run does not check
# them). Runs them all and fails at the end, naming the modules with findings.
GO_WORK_MODULES := operator sidecar e2e cli proto
GO_STANDALONE_MODULES := tools tools/image tools/node tools/kwok tools/realnode
GOLANGCI := $(BIN)/golangci-lint
GOLANGCI_CONFIG := --config $(CURDIR)/.golangci.yml
lint-go: $(BIN)/golangci-lint
	@failed=; \
	for m in $(GO_WORK_MODULES) $(GO_STANDALONE_MODULES); do \
		gowork=; case " $(GO_STANDALONE_MODULES) " in *" $$m "*) gowork=off;; esac; \
		echo "golangci-lint: $$m$${gowork:+ (GOWORK=off)}"; \
		(cd $$m && if [ -n "$$gowork" ]; then export GOWORK=off; fi && \
			$(GOLANGCI) run $(GOLANGCI_CONFIG) ./... && $(GOLANGCI) fmt $(GOLANGCI_CONFIG) --diff ./...) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "golangci-lint: findings in:$$failed" >&2; exit 1; fi

lint-sdk:
	$(MAKE) -C sdk/python/arl-client lint PYTHON=$(CURDIR)/.venv/bin/python

bench: ## operator benchmarks on the local cluster (task and sandbox latency)
	go run ./e2e/cmd/arl-bench

bench-scale: ## 100 -> 1k -> 10k sandboxes on simulated (kwok) nodes, a cluster of its own (docs/performance.md)
	tools/scripts/bench-scale.sh

bench-tasks: ## task throughput and the RL shape on real pods of $$KUBECONFIG's cluster (docs/performance.md)
	go run ./e2e/cmd/arl-bench tasks $(BENCH_ARGS)

bench-sidecar: ## sidecar Execute latency over gRPC, Connect and REST vs fork+exec
	go run ./sidecar/cmd/sidecar-bench

bench-cli: ## `kubectl arl exec true` vs the SDK's direct exec (needs a cluster: POOL=python-pool)
	cd cli && go run ./cmd/kubectl-arl-bench -pool $(or $(POOL),python-pool)

PLUGIN_DIR ?= /usr/local/bin
install-plugin: ## install kubectl-arl (the lean kubectl plugin) and arl (the full CLI and MCP server it runs) into $$PLUGIN_DIR (default /usr/local/bin)
	go -C cli build -o $(PLUGIN_DIR)/arl ./cmd/arl
	CGO_ENABLED=0 go -C cli build -o $(PLUGIN_DIR)/kubectl-arl ./cmd/kubectl-arl
	@echo "installed $(PLUGIN_DIR)/kubectl-arl and $(PLUGIN_DIR)/arl: try 'kubectl arl --help' (docs/cli.md)"

# Pinned generators live in tools/codegen (its own module, outside go.work).
proto-tools:
	GOWORK=off go -C tools/codegen build -o $(BIN)/ github.com/bufbuild/buf/cmd/buf google.golang.org/protobuf/cmd/protoc-gen-go connectrpc.com/connect/cmd/protoc-gen-connect-go

proto: proto-tools ## lint the protos and regenerate their Go code
	tools/scripts/fetch-googleapis.sh
	$(BIN)/buf lint
	$(BIN)/buf generate

manifests: operator-manifests operator-generate ## CRDs, RBAC, webhook config and deepcopy from the Go types (also into charts/arl)
	tools/scripts/chart.sh sync

# The API reference in the user docs, from the Go types and their markers.
api-docs: ## docs/user/api-reference.md from operator/api (crd-ref-docs)
	GOWORK=off go -C tools/codegen build -o $(BIN)/ github.com/elastic/crd-ref-docs
	$(BIN)/crd-ref-docs --config operator/hack/crd-ref-docs.yaml --source-path operator/api/v1alpha1 \
		--renderer markdown --output-path docs/user/api-reference.md --log-level ERROR

sdk-python: ## the Python SDK's models (from the CRDs) and Connect stubs (from the protos)
	$(MAKE) -C sdk/python/arl-client generate

gazelle: ## regenerate every BUILD.bazel, bazel.go.work and MODULE.bazel's use_repo (gazelle)
	tools/scripts/gazelle.sh

generate: proto manifests sdk-python api-docs gazelle ## regenerate everything generated

check-generated: ## fail when generated code is out of date
	tools/scripts/check-generated.sh

check-generated-test: ## prove the drift check fails on a Go import added without regenerating
	tools/scripts/check-generated_test.sh
