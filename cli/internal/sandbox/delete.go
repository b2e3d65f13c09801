package sandbox

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Delete deletes a sandbox and, with wait, watches until it is gone.
func Delete(ctx context.Context, c client.WithWatch, namespace, name string, wait bool) error {
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := c.Delete(ctx, sb); err != nil {
		if apierrors.IsNotFound(err) {
			return &NotFoundError{Namespace: namespace, Name: name}
		}
		return fmt.Errorf("deleting sandbox %s/%s: %w", namespace, name, err)
	}
	if !wait {
		return nil
	}
	sel := client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}
	for {
		list := &arlv1.SandboxList{}
		if err := c.List(ctx, list, client.InNamespace(namespace), sel); err != nil {
			return fmt.Errorf("reading sandbox %s/%s: %w", namespace, name, err)
		}
		if len(list.Items) == 0 {
			return nil
		}
		w, err := c.Watch(ctx, &arlv1.SandboxList{}, client.InNamespace(namespace), sel,
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return fmt.Errorf("watching sandbox %s/%s: %w", namespace, name, err)
		}
		gone, err := untilDeleted(ctx, w)
		w.Stop()
		if gone || err != nil {
			return err
		}
	}
}

func untilDeleted(ctx context.Context, w watch.Interface) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("waiting for the deletion: %w", ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return false, nil
			}
			if ev.Type == watch.Deleted {
				return true, nil
			}
		}
	}
}
