// Package sandbox runs a pod's processes on the host, each pod in its own
// network, PID, UTS and IPC namespaces and each container in its own mount
// namespace.
//
// A pod's namespaces are held by a tiny init process ("pod-init", a re-exec of
// the node binary) that is PID 1 of the pod's PID namespace and reaps orphans.
// A container is started from a goroutine locked to an OS thread that has
// joined the pod's namespaces (setns), with CLONE_NEWNS, as a re-exec of the
// node binary ("container-init") that makes its mounts private, mounts a fresh
// /proc and the pod's volumes, changes directory and execs the command. The
// node stays the parent of every container process, so it can wait for it and
// read its exit status.
package sandbox
