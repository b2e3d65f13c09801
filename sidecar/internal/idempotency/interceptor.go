package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// keyed is a request message that may carry an idempotency key.
type keyed interface {
	proto.Message
	GetIdempotencyKey() string
}

var (
	errKeyReused = errors.New("idempotency key already used for a different request")
	errEvicted   = errors.New("a call with this idempotency key already ran; its result is no longer kept")
)

// WrapUnary runs a keyed call once. The first call runs detached from its
// caller's cancellation (so its result is kept even when the caller goes
// away); repeats wait for it and share its response, which handlers only
// read. Calls without a key pass through.
func (s *Store) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		msg, ok := req.Any().(keyed)
		if !ok || msg.GetIdempotencyKey() == "" {
			return next(ctx, req)
		}
		if len(msg.GetIdempotencyKey()) > MaxKeyBytes {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("idempotency_key is %d bytes; at most %d are allowed", len(msg.GetIdempotencyKey()), MaxKeyBytes))
		}
		fp, err := fingerprint(msg)
		if err != nil {
			return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("fingerprint request: %w", err))
		}
		e, first := s.claim(req.Spec().Procedure+" "+msg.GetIdempotencyKey(), fp)
		if e.fingerprint != fp {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%w: %q", errKeyReused, msg.GetIdempotencyKey()))
		}
		if first {
			// The first caller gets its own result directly: the store may
			// drop it (retention, byte budget) before this caller reads it.
			mine := make(chan result, 1)
			go func() {
				resp, err := next(context.WithoutCancel(ctx), req)
				size := 0
				if err == nil {
					// Header and Trailer make their maps on first use:
					// make them now, before repeats share the response.
					resp.Header()
					resp.Trailer()
					if m, ok := resp.Any().(proto.Message); ok {
						size = proto.Size(m)
					}
				}
				s.finish(e, resp, err, size)
				mine <- result{resp, err}
			}()
			select {
			case r := <-mine:
				return r.resp, r.err
			case <-ctx.Done():
				return nil, contextError(ctx)
			}
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, contextError(ctx)
		}
		resp, evicted, err := s.read(e)
		if evicted {
			return nil, connect.NewError(connect.CodeAlreadyExists, fmt.Errorf("%w: %q", errEvicted, msg.GetIdempotencyKey()))
		}
		return resp, err
	}
}

type result struct {
	resp connect.AnyResponse
	err  error
}

func contextError(ctx context.Context) error {
	code := connect.CodeCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = connect.CodeDeadlineExceeded
	}
	return connect.NewError(code, ctx.Err())
}

// WrapStreamingClient passes through: only unary calls carry keys.
func (s *Store) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler passes through: only unary calls carry keys.
func (s *Store) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// volatileFields are left out of a request's fingerprint: a repeat sent
// later asks for the time left, and the first call's timeout applies.
var volatileFields = []protoreflect.Name{"timeout_seconds"}

// fingerprint identifies what a request asks for.
func fingerprint(m proto.Message) ([sha256.Size]byte, error) {
	m = proto.Clone(m)
	fields := m.ProtoReflect().Descriptor().Fields()
	for _, name := range volatileFields {
		if fd := fields.ByName(name); fd != nil {
			m.ProtoReflect().Clear(fd)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}
