package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Component is one background process of the local cluster.
type Component struct {
	Name   string // also the log (<name>.log) and pid file (<name>.pid) name
	Binary string // name in bin/: a multi-call link or a binary
	Args   []string
	Env    []string // extra environment (NAME=value)
	// Optional components whose binary is missing are skipped with a
	// warning (the node, until it is built).
	Optional bool
	Port     int // the port it listens on, checked free before it starts
}

// controllers run by kube-controller-manager: what pods, deployments, jobs,
// garbage collection, namespaces and service accounts need. No node
// lifecycle controller: the process node is the only node.
var controllers = []string{
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"clusterrole-aggregation-controller",
	"endpoints-controller",
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"replicaset-controller",
	"deployment-controller",
	"statefulset-controller",
	"job-controller",
	"cronjob-controller",
	"ttl-after-finished-controller",
	"disruption-controller",
	"resourcequota-controller",
	"pod-garbage-collector-controller",
	"certificatesigningrequest-signing-controller",
	"certificatesigningrequest-approving-controller",
}

// Components lists the cluster's processes in start order; kwok only when
// the state directory records simulated nodes (up --sim-nodes).
func Components(l Layout) []Component {
	comps := []Component{
		etcd(l), apiserver(l), controllerManager(l), scheduler(l), registry(l), node(l),
	}
	if l.SimNodes() > 0 {
		comps = append(comps, kwok(l))
	}
	return comps
}

func etcd(l Layout) Component {
	return Component{Name: "etcd", Binary: "etcd", Port: l.Net.EtcdClientPort, Args: []string{
		"--name=arl-local",
		"--data-dir=" + l.File("etcd"),
		"--listen-client-urls=" + l.Net.EtcdClientURL(),
		"--advertise-client-urls=" + l.Net.EtcdClientURL(),
		"--listen-peer-urls=" + l.Net.EtcdPeerURL(),
		"--initial-advertise-peer-urls=" + l.Net.EtcdPeerURL(),
		"--initial-cluster=arl-local=" + l.Net.EtcdPeerURL(),
		"--unsafe-no-fsync", // a throwaway dev cluster: fast over durable
		"--log-level=warn",
	}}
}

// apiserverGOGC is the kube-apiserver's Go GC target. Under a task burst
// the collector took 14% of its CPU at the default 100 (docs/performance.md,
// "Task throughput"); a dev cluster spends memory to give that CPU back.
const apiserverGOGC = "GOGC=200"

func apiserver(l Layout) Component {
	p := l.PKI
	return Component{Name: "kube-apiserver", Binary: "kube-apiserver", Port: l.Net.APIServerPort, Env: []string{apiserverGOGC}, Args: []string{
		"--etcd-servers=" + l.Net.EtcdClientURL(),
		"--bind-address=0.0.0.0",
		fmt.Sprintf("--secure-port=%d", l.Net.APIServerPort),
		"--advertise-address=" + l.Net.GatewayIP,
		// No kube-proxy and no real endpoints for the kubernetes Service:
		// pods reach the apiserver at the gateway address directly.
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=" + ServiceCIDR,
		// Webhooks and aggregated APIs are called at endpoint (pod) IPs.
		"--enable-aggregator-routing=true",
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--client-ca-file=" + p(caName+".crt"),
		"--tls-cert-file=" + p(apiserverName+".crt"),
		"--tls-private-key-file=" + p(apiserverName+".key"),
		"--service-account-issuer=" + SAIssuer,
		"--service-account-key-file=" + p(saKeyName+".pub"),
		"--service-account-signing-key-file=" + p(saKeyName+".key"),
		"--kubelet-client-certificate=" + p(kubeletClientName+".crt"),
		"--kubelet-client-key=" + p(kubeletClientName+".key"),
		"--kubelet-certificate-authority=" + p(caName+".crt"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--requestheader-client-ca-file=" + p(frontProxyCAName+".crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p(frontProxyName+".crt"),
		"--proxy-client-key-file=" + p(frontProxyName+".key"),
		"--cert-dir=" + l.File("apiserver"),
	}}
}

func controllerManager(l Layout) Component {
	p := l.PKI
	kubeconfig := p(controllerName + ".kubeconfig")
	return Component{Name: "kube-controller-manager", Binary: "kube-controller-manager", Port: l.Net.ControllerPort, Args: []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", l.Net.ControllerPort),
		"--cert-dir=" + l.File("controller-manager"),
		"--leader-elect=false",
		"--controllers=" + strings.Join(controllers, ","),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + p(saKeyName+".key"),
		"--root-ca-file=" + p(caName+".crt"),
		"--cluster-signing-cert-file=" + p(caName+".crt"),
		"--cluster-signing-key-file=" + p(caName+".key"),
		"--client-ca-file=" + p(caName+".crt"),
		"--requestheader-client-ca-file=" + p(frontProxyCAName+".crt"),
	}}
}

func scheduler(l Layout) Component {
	p := l.PKI
	kubeconfig := p(schedulerName + ".kubeconfig")
	return Component{Name: "kube-scheduler", Binary: "kube-scheduler", Port: l.Net.SchedulerPort, Args: []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", l.Net.SchedulerPort),
		"--cert-dir=" + l.File("scheduler"),
		"--leader-elect=false",
	}}
}

// imageBinaries maps the ARL images to locally built binaries
// (docs/contracts.md, "Images and binaries").
var imageBinaries = []struct{ image, binary string }{
	{"ghcr.io/arl-infra/arl-sidecar", "arl-sidecar"},
	{"ghcr.io/arl-infra/arl-operator", "arl-operator"},
}

func node(l Layout) Component {
	p := l.PKI
	args := []string{
		"--kubeconfig=" + p(nodeName+".kubeconfig"),
		"--node-name=" + NodeName,
		"--state-dir=" + l.NodeState(),
		// Pods must not see the admin kubeconfig, the PKI or other pods'
		// volumes: the whole cluster state dir is hidden in containers.
		"--hide-dir=" + l.State,
		"--pod-cidr=" + l.Net.PodCIDR,
		"--bridge=" + l.Net.Bridge,
		"--kubelet-addr=" + l.Net.KubeletAddr(),
		"--kubelet-cert=" + p(kubeletServingName+".crt"),
		"--kubelet-key=" + p(kubeletServingName+".key"),
		"--client-ca=" + p(caName+".crt"),
		"--apiserver-host=" + l.Net.GatewayIP,
		fmt.Sprintf("--apiserver-port=%d", l.Net.APIServerPort),
	}
	for _, ib := range imageBinaries {
		if _, err := os.Stat(l.BinPath(ib.binary)); err == nil {
			args = append(args, "--image-binary="+ib.image+"="+filepath.Join(l.Bin, ib.binary))
		}
	}
	return Component{Name: "arl-node", Binary: "arl-node", Args: args, Optional: true, Port: l.Net.KubeletPort}
}
