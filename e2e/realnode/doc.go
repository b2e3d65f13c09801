// Package realnode checks what only a real node (kubelet + containerd +
// runc) can show about ARL's pool pods: separate PID namespaces for the
// executor and the sidecar, kubectl logs/exec/port-forward, containers
// gone from containerd soon after their sandbox, images pulled by digest
// from the loopback registry, and a pool whose image does not exist
// reporting it. Run against `make local-up NODE=kubelet`:
//
//	cd e2e && ARL_E2E_NODE=kubelet go test -tags realnode -count=1 -v ./realnode/
package realnode
