// Package e2elocal holds the local cluster's end-to-end tests: they run the
// real arl-local up/down against a temporary state directory, with real
// etcd, kube-apiserver, controller manager, scheduler and arl-node
// processes, as cluster instance 1 (own ports, bridge arl1, pods
// 10.244.1.0/24) so they run beside the developer's default cluster. They
// are behind the e2elocal build tag (a cold first run builds the control
// plane for minutes):
//
//	go -C tools test -tags e2elocal -count=1 -v ./e2elocal/
package e2elocal
