// Package sandbox runs a pod's processes on the host, each pod in its own
// network, UTS and IPC namespaces and each container in its own mount and
// PID namespaces (or in the pod's PID namespace when the pod shares one).
//
// A pod's namespaces are held by a tiny init process ("pod-init", a re-exec of
// the node binary) that is PID 1 of the pod's PID namespace and reaps orphans.
// A container is started from a goroutine locked to an OS thread that has
// joined the pod's namespaces (setns), with CLONE_NEWNS, as a re-exec of the
// node binary ("container-init") that makes its mounts private, mounts a fresh
// /proc and the pod's volumes and changes directory. Unless the pod shares its
// PID namespace, the thread joins all but the pod's PID namespace and adds
// CLONE_NEWPID (the kernel refuses CLONE_NEWPID after setns into another PID
// namespace): container-init is then PID 1 of the container's namespace and
// runs the command as its child, forwarding signals and reaping; otherwise it
// execs the command. The node stays the parent of every container-init, so it
// can wait for it and read its exit status.
package sandbox
