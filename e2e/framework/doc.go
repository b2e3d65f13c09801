// Package framework drives the local cluster for the e2e suites in two
// ways. Where a test is about the manual, it runs the manual's commands as
// a user types them: `kubectl apply -f` of the example files, `kubectl
// wait` and `kubectl get -o jsonpath` on their tasks, get/describe tables,
// exec, logs and port-forward (kubectl.go). Everything else (setting up
// and cleaning up, the objects a test makes itself, reading pods, secrets,
// pools and the operator's Deployment) goes through a typed
// controller-runtime client with the operator's API types (client.go), and
// its waits (waits.go) fail saying what they waited for and the last
// status they saw.
package framework
