// Package e2erealnode holds the real node's end-to-end tests: arl-local up
// --node=kubelet starts a real control plane and a kubelet with containerd
// and runc as cluster instance 3 (bridge arlk3, pods 10.245.3.0/24, its own
// ports), runs pods from images built here, and checks that down leaves
// nothing on the machine. They need root and are behind the e2erealnode
// build tag (a cold first run builds kubelet and containerd for minutes):
//
//	go -C tools test -tags e2erealnode -count=1 -v ./e2erealnode/
package e2erealnode
