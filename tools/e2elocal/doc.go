// Package e2elocal holds the local cluster's end-to-end tests: they run the
// real arl-local up/down against a temporary state directory, with real
// etcd, kube-apiserver, controller manager, scheduler and arl-node
// processes. They are behind the e2elocal build tag (a cold first run
// builds the control plane for minutes) and need the machine's one local
// cluster to be down:
//
//	go -C tools test -tags e2elocal -count=1 -v ./e2elocal/
package e2elocal
