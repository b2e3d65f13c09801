// Package e2ehelm installs the Helm chart charts/arl on a local cluster of
// its own and proves the install: built images pushed to the cluster's
// registry and named by digest, two replicas with leader election and a
// PodDisruptionBudget, webhooks answering (also while the leader is
// killed), and the manual's quick start. Run with the e2ehelm build tag:
//
//	make helm arl-image && GOWORK=off go -C tools test -tags e2ehelm -count=1 -v ./e2ehelm/
//
// ARL_HELM_E2E_INSTANCE picks the cluster instance (default 4).
package e2ehelm
