// Package envtesttest proves that the arl-kube multi-call binary serves
// controller-runtime's envtest (KUBEBUILDER_ASSETS = a folder of etcd and
// kube-apiserver links to it), and shows how a test runs
// kube-controller-manager beside envtest for garbage collection.
package envtesttest
