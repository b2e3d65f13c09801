// Package execstream is the lean kubectl-arl front's client for one RPC of
// the sidecar, ExecuteStream, in the Connect protocol's server streaming
// over HTTP/1.1 (https://connectrpc.com/docs/protocol), on a connection the
// caller dialed. The full CLI uses connect-go and the generated code
// (package sidecarrpc); this package exists because linking those (the
// protobuf runtime with its registries and descriptors, connect-go, the
// HTTP/2 client) cost the front about 3 ms of CPU at every start, more than
// the call itself. It links the standard library only; its tests check the
// wire format against the generated code and talk to a connect-go handler.
package execstream
