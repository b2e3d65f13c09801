# ARL: the front door. Targets stay thin and call scripts under tools/scripts.
SHELL := /usr/bin/env bash
BIN := $(CURDIR)/bin
export GOFLAGS := -buildvcs=false

.PHONY: generate proto-tools proto buf-lint
# Pinned generators live in tools/codegen (its own module, outside go.work).
proto-tools:
	GOWORK=off go -C tools/codegen build -o $(BIN)/ github.com/bufbuild/buf/cmd/buf google.golang.org/protobuf/cmd/protoc-gen-go connectrpc.com/connect/cmd/protoc-gen-connect-go

proto: proto-tools
	tools/scripts/fetch-googleapis.sh
	$(BIN)/buf lint
	$(BIN)/buf generate

generate: proto
