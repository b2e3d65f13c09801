package service

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/arl-infra/arl/sidecar/internal/files"
	"github.com/arl-infra/arl/sidecar/internal/process"
)

// toConnectError gives an error the precise Connect code of its cause.
func toConnectError(err error) error {
	if err == nil {
		return nil
	}
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return err
	}
	code := connect.CodeInternal
	switch {
	case errors.Is(err, process.ErrInvalid), errors.Is(err, files.ErrInvalidPath), errors.Is(err, files.ErrInvalid):
		code = connect.CodeInvalidArgument
	case errors.Is(err, files.ErrExists):
		code = connect.CodeAlreadyExists
	case errors.Is(err, files.ErrNotEmpty):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, files.ErrTooLarge):
		code = connect.CodeResourceExhausted
	case errors.Is(err, process.ErrNotFound), errors.Is(err, files.ErrNotFound):
		code = connect.CodeNotFound
	case errors.Is(err, process.ErrNotInTree), errors.Is(err, process.ErrProtected), errors.Is(err, files.ErrOutside),
		errors.Is(err, files.ErrPermission):
		code = connect.CodePermissionDenied
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	}
	return connect.NewError(code, err)
}

func invalid(msg string) error {
	return connect.NewError(connect.CodeInvalidArgument, errors.New(msg))
}
