# Container images without Docker (tools/image): include from the root Makefile.
#   make images                                   OCI layouts in .build/images (linux/amd64+arm64)
#   make push REGISTRY=host:port[/path] [TAG=...]  push them (plain HTTP for loopback)

ARL_IMAGE := $(CURDIR)/bin/arl-image
IMAGES_DIR := $(CURDIR)/.build/images
# The images' version is the chart's appVersion; TAG defaults to it.
IMAGE_VERSION := $(shell sed -n 's/^appVersion: *//p' $(CURDIR)/charts/arl/Chart.yaml)
TAG ?= $(IMAGE_VERSION)
# Every timestamp in the images is the last commit's time: same commit, same digests.
IMAGE_EPOCH = $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_REVISION = $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: arl-image images push

arl-image:
	GOWORK=off go -C tools/image build -o $(ARL_IMAGE) ./cmd/arl-image

images: arl-image ## OCI images arl-operator and arl-sidecar (FROM scratch, amd64+arm64) in .build/images
	$(ARL_IMAGE) build --repo $(CURDIR) --out $(IMAGES_DIR) --version $(IMAGE_VERSION) --revision "$(IMAGE_REVISION)" --epoch $(IMAGE_EPOCH)

push: arl-image ## push the built images: make push REGISTRY=host:port[/path] [TAG=...]
	@test -n "$(REGISTRY)" || { echo "make push: set REGISTRY=host:port[/path] (the local cluster's: arl-local env | grep ARL_REGISTRY)" >&2; exit 2; }
	$(ARL_IMAGE) push --in $(IMAGES_DIR) --registry $(REGISTRY) --tag $(TAG)
