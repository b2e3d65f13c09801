package provider

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func isNotFoundOrConflict(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsConflict(err)
}
