# Local cluster targets (tools/): include from the root Makefile with
#   include tools/local.mk
# arl-local itself is tiny (stdlib only) and rebuilt on every call; it
# builds the heavy binaries itself, with progress lines and a binary cache.

ARL_LOCAL := $(CURDIR)/bin/arl-local
ENVTEST_ASSETS ?= $(CURDIR)/bin/envtest-assets

.PHONY: arl-local local-up local-down local-status local-env envtest-assets test-local-e2e

arl-local:
	GOWORK=off GOFLAGS=-buildvcs=false go -C tools build -o $(ARL_LOCAL) ./cmd/arl-local

local-up: arl-local
	$(ARL_LOCAL) up

local-down: arl-local
	$(ARL_LOCAL) down

local-status: arl-local
	$(ARL_LOCAL) status

local-env: arl-local
	@$(ARL_LOCAL) env

# KUBEBUILDER_ASSETS for controller-runtime envtest: etcd, kube-apiserver,
# kubectl and kube-controller-manager links to bin/arl-kube.
envtest-assets: arl-local
	$(ARL_LOCAL) envtest-assets $(ENVTEST_ASSETS)
	@echo "export KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS)"

# The local cluster's own end-to-end tests (start and stop a real cluster in
# a temporary state directory; the machine's one cluster must be down).
test-local-e2e:
	GOWORK=off go -C tools test -count=1 -timeout=30m -v ./e2elocal/...
