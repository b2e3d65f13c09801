package sandbox

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// WaitReady watches a sandbox until it is Ready; a Failed or deleted sandbox
// ends the wait with an error, and so does ctx.
func WaitReady(ctx context.Context, c client.WithWatch, namespace, name string) (*arlv1.Sandbox, error) {
	sel := client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}
	for {
		list := &arlv1.SandboxList{}
		if err := c.List(ctx, list, client.InNamespace(namespace), sel); err != nil {
			return nil, fmt.Errorf("reading sandbox %s/%s: %w", namespace, name, err)
		}
		if len(list.Items) == 0 {
			return nil, &NotFoundError{Namespace: namespace, Name: name}
		}
		if sb, done, err := settled(&list.Items[0]); done {
			return sb, err
		}
		w, err := c.Watch(ctx, &arlv1.SandboxList{}, client.InNamespace(namespace), sel,
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return nil, fmt.Errorf("watching sandbox %s/%s: %w", namespace, name, err)
		}
		sb, done, err := watchSettled(ctx, w, namespace, name)
		w.Stop()
		if done {
			return sb, err
		}
	}
}

// settled: Ready (done, no error), Failed (done, error) or still coming.
func settled(sb *arlv1.Sandbox) (*arlv1.Sandbox, bool, error) {
	switch sb.Status.Phase {
	case arlv1.SandboxPhaseReady:
		return sb, true, nil
	case arlv1.SandboxPhaseFailed:
		return sb, true, CheckReady(sb)
	}
	return sb, false, nil
}

func watchSettled(ctx context.Context, w watch.Interface, namespace, name string) (*arlv1.Sandbox, bool, error) {
	var last *arlv1.Sandbox
	for {
		select {
		case <-ctx.Done():
			if last != nil {
				if err := CheckReady(last); err != nil {
					return last, true, fmt.Errorf("%w (%v)", err, ctx.Err())
				}
			}
			return last, true, fmt.Errorf("waiting for sandbox %s/%s: %w", namespace, name, ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return nil, false, nil
			}
			if ev.Type == watch.Deleted {
				return nil, true, errors.New("sandbox " + name + " was deleted while waiting for it")
			}
			if sb, ok := ev.Object.(*arlv1.Sandbox); ok {
				last = sb
				if sb, done, err := settled(sb); done {
					return sb, true, err
				}
			}
		}
	}
}
