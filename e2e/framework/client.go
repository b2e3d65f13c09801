package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Namespace is where the manual's objects live: kubectl's default.
const Namespace = "default"

// OperatorNamespace holds the operator's Deployment.
const OperatorNamespace = "arl-system"

var kube client.Client

// Client is a typed client of the cluster at KUBECONFIG that knows the core
// kinds and ARL's. RequireCluster makes it; tests read and write through it
// wherever kubectl is not what they test.
func Client() client.Client {
	if kube == nil {
		panic("framework.Client before RequireCluster")
	}
	return kube
}

func newClient() (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", os.Getenv("KUBECONFIG"), err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("core kinds: %w", err)
	}
	if err := arlv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("ARL kinds: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	return c, nil
}

// callCtx is a context for one call of the client.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute) // not t.Context(): it ends before t.Cleanup runs
}

// inDefault puts obj in Namespace unless it names one (or is cluster-scoped
// and has none to name).
func inDefault(obj client.Object) {
	if obj.GetNamespace() == "" {
		obj.SetNamespace(Namespace)
	}
}

// Key is the name of an object in Namespace.
func Key(name string) client.ObjectKey { return client.ObjectKey{Namespace: Namespace, Name: name} }

// Get reads the object name of Namespace into obj and fails the test when
// it cannot.
func Get(t testing.TB, name string, obj client.Object) {
	t.Helper()
	c, cancel := callCtx()
	defer cancel()
	if err := Client().Get(c, Key(name), obj); err != nil {
		t.Fatalf("get %T %s: %v", obj, name, err)
	}
}

// Create creates each object (in Namespace unless it names another).
func Create(t testing.TB, objs ...client.Object) {
	t.Helper()
	create(t, false, objs)
}

// CreateIfMissing creates each object that does not exist yet and leaves
// an existing one as it is.
func CreateIfMissing(t testing.TB, objs ...client.Object) {
	t.Helper()
	create(t, true, objs)
}

func create(t testing.TB, existingOK bool, objs []client.Object) {
	t.Helper()
	c, cancel := callCtx()
	defer cancel()
	for _, obj := range objs {
		inDefault(obj)
		if err := Client().Create(c, obj); err != nil && (!existingOK || !apierrors.IsAlreadyExists(err)) {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
}

// Recreate deletes a leftover of each object (waiting until it is gone)
// and creates it anew.
func Recreate(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		inDefault(obj)
		Delete(t, obj.DeepCopyObject().(client.Object))
	}
	Create(t, objs...)
}

// Delete deletes obj (by its name and namespace) if it exists and waits
// until it is gone, as `kubectl delete --ignore-not-found --wait=true`.
func Delete(t testing.TB, obj client.Object) {
	t.Helper()
	DeleteNoWait(t, obj)
	WaitGone(t, obj, 2*time.Minute)
}

// DeleteNoWait deletes obj if it exists and returns at once.
func DeleteNoWait(t testing.TB, obj client.Object, opts ...client.DeleteOption) {
	t.Helper()
	inDefault(obj)
	c, cancel := callCtx()
	defer cancel()
	if err := client.IgnoreNotFound(Client().Delete(c, obj, opts...)); err != nil {
		t.Fatalf("delete %T %s: %v", obj, obj.GetName(), err)
	}
}

// DeleteLabelled deletes the objects of obj's kind in Namespace that carry
// the label key=value, without waiting.
func DeleteLabelled(t testing.TB, obj client.Object, key, value string) {
	t.Helper()
	c, cancel := callCtx()
	defer cancel()
	if err := Client().DeleteAllOf(c, obj, client.InNamespace(Namespace), client.MatchingLabels{key: value}); err != nil {
		t.Fatalf("delete %T labelled %s=%s: %v", obj, key, value, err)
	}
}

// WaitGone waits until obj no longer exists.
func WaitGone(t testing.TB, obj client.Object, timeout time.Duration) {
	t.Helper()
	inDefault(obj)
	key := client.ObjectKeyFromObject(obj)
	Until(t, timeout, fmt.Sprintf("%T %s to be gone", obj, key.Name), func(c context.Context) (bool, string, error) {
		err := Client().Get(c, key, obj)
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		if ts := obj.GetDeletionTimestamp(); ts != nil {
			return false, fmt.Sprintf("deleting since %s, finalizers %v", ts.Format(time.RFC3339), obj.GetFinalizers()), nil
		}
		return false, "exists, not being deleted", nil
	})
}

// Until polls check every 100 ms until it says done or timeout passes; a
// timeout fails the test naming what was waited for and the last state
// check reported. A transient API error is retried; the last one is shown.
func Until(t testing.TB, timeout time.Duration, what string, check func(context.Context) (done bool, state string, err error)) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last, lastErr := "(never read)", error(nil)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		done, state, err := check(c)
		switch {
		case err == nil && done:
			return
		case err == nil:
			last, lastErr = state, nil
		case !errors.Is(err, context.DeadlineExceeded) || c.Err() == nil:
			lastErr = err
		}
		select {
		case <-c.Done():
			if lastErr != nil {
				t.Fatalf("timed out after %s waiting for %s; last seen: %s; last error: %v", timeout, what, last, lastErr)
			}
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		case <-tick.C:
		}
	}
}
