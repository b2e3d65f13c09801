module github.com/arl-infra/arl/tools/node

go 1.26.8

require (
	github.com/creack/pty v1.1.24 // indirect
	github.com/virtual-kubelet/virtual-kubelet v1.14.1 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
