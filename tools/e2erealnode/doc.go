// Package e2erealnode holds the real node's end-to-end tests: arl-local up
// --node=both starts a real control plane, a kubelet with containerd and
// runc (bridge arlk3, pods 10.245.3.0/24) and the process node (arl3,
// 10.244.3.0/24) as cluster instance 3 (ARL_E2EREALNODE_INSTANCE picks
// another), runs pods from images built here, checks that the pods of the
// two nodes and the host reach each other, and that down leaves nothing
// on the machine. They need root and are behind the e2erealnode
// build tag (a cold first run builds kubelet and containerd for minutes):
//
//	go -C tools test -tags e2erealnode -count=1 -v ./e2erealnode/
package e2erealnode
