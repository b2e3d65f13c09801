package server

import (
	"fmt"

	"connectrpc.com/vanguard"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The manual's JSON: proto (snake_case) field names, zero values present.
// It must be given to both the Connect handler and the vanguard transcoder:
// with only the latter, REST bodies reach connect-go's default JSON codec
// and come out camelCase without zero values.
var (
	jsonMarshal   = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	jsonUnmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}
)

// jsonCodec is the Connect codec named "json".
type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	msg, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json codec: %T is not a proto.Message", v)
	}
	return jsonMarshal.Marshal(msg)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("json codec: %T is not a proto.Message", v)
	}
	return jsonUnmarshal.Unmarshal(data, msg)
}

// vanguardJSONCodec is the same JSON for the REST transcoder.
func vanguardJSONCodec(res vanguard.TypeResolver) vanguard.Codec {
	marshal, unmarshal := jsonMarshal, jsonUnmarshal
	marshal.Resolver = res
	unmarshal.Resolver = res
	return &vanguard.JSONCodec{MarshalOptions: marshal, UnmarshalOptions: unmarshal}
}
