module github.com/arl-infra/arl/sidecar

go 1.26.8
