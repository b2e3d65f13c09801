#!/usr/bin/env bash
# dist/install.yaml: the chart rendered with its defaults, plus the
# Namespace and the CRDs, both images pinned by the digests make images
# wrote. For users without Helm: kubectl apply --server-side -f dist/install.yaml.
#   tools/scripts/release.sh REGISTRY IMAGES_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
registry=${1:?usage: release.sh REGISTRY IMAGES_DIR}
images=${2:?usage: release.sh REGISTRY IMAGES_DIR}
digest() {
	local f="$images/$1.digest"
	[ -s "$f" ] || die "$f missing: run make images first"
	tr -d '[:space:]' <"$f"
}
operator=$(digest arl-operator)
sidecar=$(digest arl-sidecar)
mkdir -p "$ROOT/dist"
out="$ROOT/dist/install.yaml"
{
	echo "# ARL $(sed -n 's/^appVersion: *//p' "$ROOT/charts/arl/Chart.yaml"): CRDs and the operator in namespace arl-system, rendered from charts/arl."
	echo "#   kubectl apply --server-side -f install.yaml"
	echo "# operator: $registry/arl-operator@$operator"
	echo "# sidecar:  $registry/arl-sidecar@$sidecar"
	sed -n '/^apiVersion/,$p' "$ROOT/operator/config/default/namespace.yaml" | sed '1i ---'
	"$BIN/helm" template arl "$ROOT/charts/arl" --namespace arl-system --include-crds \
		--set image.repository="$registry/arl-operator" --set image.digest="$operator" \
		--set sidecar.image.repository="$registry/arl-sidecar" --set sidecar.image.digest="$sidecar"
} >"$out"
step "wrote $out (operator @$operator, sidecar @$sidecar)"
