module github.com/arl-infra/arl/tools

go 1.26.8
