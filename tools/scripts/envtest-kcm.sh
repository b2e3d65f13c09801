#!/usr/bin/env bash
# Run kube-controller-manager beside a controller-runtime envtest apiserver,
# for tests that need garbage collection, namespace deletion or default
# service accounts (envtest runs only etcd and kube-apiserver).
#
# usage: envtest-kcm.sh KUBECONFIG [extra kube-controller-manager flags...]
#
# KUBECONFIG must authenticate as a member of system:masters. From a Go test:
#
#   user, err := testEnv.AddUser(envtest.User{Name: "kcm", Groups: []string{"system:masters"}}, nil)
#   data, err := user.KubeConfig()
#   os.WriteFile(path, data, 0o600)
#   cmd := exec.Command("<repo>/tools/scripts/envtest-kcm.sh", path)
#   cmd.Start(); defer cmd.Process.Kill()
#
# It runs in the foreground (exec), serves no port, elects no leader, so
# several test packages can each run their own beside their own envtest.
# The binary: $ARL_KUBE, else KUBEBUILDER_ASSETS/kube-controller-manager
# (made by `arl-local envtest-assets DIR`), else <repo>/bin/arl-kube.
set -euo pipefail

kubeconfig=${1:?usage: envtest-kcm.sh KUBECONFIG [kube-controller-manager flags...]}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bin=${ARL_KUBE:-}
if [[ -z $bin && -n ${KUBEBUILDER_ASSETS:-} && -e $KUBEBUILDER_ASSETS/kube-controller-manager ]]; then
  bin=$KUBEBUILDER_ASSETS/kube-controller-manager
fi
bin=${bin:-$here/../../bin/arl-kube}
if [[ ! -e $bin ]]; then
  echo "envtest-kcm: $bin is missing: run 'make envtest-assets' (or bin/arl-local envtest-assets DIR)" >&2
  exit 1
fi
# Call the multi-call binary by its own name so the component is argv[1].
bin=$(readlink -f "$bin")

exec "$bin" kube-controller-manager \
  --kubeconfig="$kubeconfig" \
  --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller \
  --leader-elect=false \
  --secure-port=0 \
  "$@"
