module github.com/arl-infra/arl/proto

go 1.26.8

require (
	connectrpc.com/connect v1.19.1
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/protobuf v1.36.12
)
