# The Helm chart (charts/arl) and the release manifest: include from the root Makefile.
#   make helm      bin/helm, built from helm.sh/helm/v4 pinned in tools/codegen
#   make chart     lint the chart and render charts/testdata/*.yaml and operator/config/default/arl-operator.yaml
#   make release   dist/install.yaml: CRDs + operator with both images pinned by digest (after make images)

HELM := $(CURDIR)/bin/helm
# Where the released images live (make push REGISTRY=... pushes there).
RELEASE_REGISTRY ?= ghcr.io/arl-infra

.PHONY: helm chart release

helm:
	GOWORK=off go -C tools/codegen build -o $(CURDIR)/bin/ helm.sh/helm/v4/cmd/helm

chart: helm ## lint the Helm chart and render it (charts/testdata, operator/config/default)
	tools/scripts/chart.sh render

release: images helm ## dist/install.yaml from the chart, images pinned by digest (RELEASE_REGISTRY=...)
	tools/scripts/release.sh $(RELEASE_REGISTRY) $(IMAGES_DIR)
