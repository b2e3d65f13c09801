# Local cluster targets (tools/): include from the root Makefile with
#   include tools/local.mk
# arl-local itself is tiny (stdlib only) and rebuilt on every call; it
# builds the heavy binaries itself, with progress lines and a binary cache.

ARL_LOCAL := $(CURDIR)/bin/arl-local
ENVTEST_ASSETS ?= $(CURDIR)/bin/envtest-assets

.PHONY: arl-local local-up local-down local-status local-env local-build envtest-assets test-local test-local-e2e test-real-node

arl-local:
	GOWORK=off GOFLAGS=-buildvcs=false go -C tools build -o $(ARL_LOCAL) ./cmd/arl-local

# NODE=kubelet runs the real node (kubelet + containerd + runc) with the
# operator from its image, installed by the Helm chart (docs/real-node.md).
local-up: arl-local
	$(ARL_LOCAL) up $(if $(NODE),--node=$(NODE))

# Build what local-up needs without starting anything (CI warm-up).
local-build: arl-local
	$(ARL_LOCAL) build

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

# Unit tests and the envtest proof of the tools module (GOWORK=off: the
# module pins its own versions of the Kubernetes dependencies).
test-local:
	GOWORK=off go -C tools test -count=1 ./...

# The local cluster's own end-to-end tests: a real cluster as instance 1 in a
# temporary state directory, beside the developer's cluster (instance 0).
test-local-e2e:
	GOWORK=off go -C tools test -tags e2elocal -count=1 -timeout=30m -v ./e2elocal/

# The real node's end-to-end tests (root): kubelet + containerd + runc as
# instance 3, pods from locally built images, down leaving nothing behind.
test-real-node:
	GOWORK=off go -C tools test -tags e2erealnode -count=1 -timeout=40m -v ./e2erealnode/
