module github.com/arl-infra/arl/operator

go 1.26.8
