module github.com/arl-infra/arl/e2e

go 1.26.8
