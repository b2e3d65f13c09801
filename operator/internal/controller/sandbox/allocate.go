package sandbox

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/poolpod"
)

// errAllocationRace: every idle pod seen is promised to another sandbox
// whose writes are in flight; the caller retries with a fresh cache view.
var errAllocationRace = errors.New("every idle pod seen is being taken by another sandbox")

// allocator hands idle pods to sandboxes. A pod is first promised to a
// sandbox in the operator's poolpod.PodClaims (shared with the WarmPool
// controller), then the sandbox's status naming it and the pod's binding
// are written in parallel. Binding is one conditional patch of the pod
// (bindPatch): its labels become state=allocated, sandbox=<name>, and its
// controller reference moves from the pool to the sandbox, so deleting the
// sandbox deletes the pod. A promise whose bind never lands ends with the
// pod deleted, never returned to the pool.
type allocator struct {
	client client.Client
	pods   poolpod.PodConfig
	claims *poolpod.PodClaims

	mu sync.Mutex
	// promises: sandbox -> the pod this process promised it, until the
	// cache shows that pod bound to it.
	promises map[types.NamespacedName]promise
}

// promise is a pod promised to one sandbox.
type promise struct {
	sandbox types.UID
	pod     types.NamespacedName
	podUID  types.UID
	bound   bool // the bind patch was stored
}

func newAllocator(c client.Client, pods poolpod.PodConfig, claims *poolpod.PodClaims) *allocator {
	return &allocator{client: c, pods: pods, claims: claims, promises: map[types.NamespacedName]promise{}}
}

// pick promises one idle, Ready pod of pool to sb, without writing
// anything. It returns nil, nil when the pool has no such pod.
func (a *allocator) pick(ctx context.Context, sb *arlv1.Sandbox, pool *arlv1.WarmPool) (*corev1.Pod, error) {
	// Read-only (the cache's own objects): a deep copy of every idle pod
	// of a pool on each claim costs O(pool size) per claim; only the
	// picked pod is copied.
	var idle corev1.PodList
	if err := a.client.List(ctx, &idle, client.InNamespace(sb.Namespace),
		client.MatchingFields{arlv1.PodPoolStateField: arlv1.PoolStateKey(pool.Name, arlv1.PodStateIdle)},
		client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list idle pods of warmpool %s: %w", pool.Name, err)
	}
	candidates, inFlight := a.candidates(pool, idle.Items)
	// Concurrent workers start at different offsets to collide less.
	start := 0
	if len(candidates) > 0 {
		start = int(spread(string(sb.UID)) % uint32(len(candidates)))
	}
	for i := range candidates {
		pod := candidates[(start+i)%len(candidates)]
		named, err := namedByAnotherSandbox(ctx, a.client, pod, sb)
		if err != nil {
			return nil, err
		}
		if named {
			continue // taken: its bind has not landed yet
		}
		if !a.claims.ForSandbox(pod.UID, sb.UID) {
			inFlight++
			continue
		}
		a.mu.Lock()
		a.promises[client.ObjectKeyFromObject(sb)] = promise{sandbox: sb.UID, pod: client.ObjectKeyFromObject(pod), podUID: pod.UID}
		a.mu.Unlock()
		return pod.DeepCopy(), nil
	}
	if inFlight > 0 {
		// Promised to other sandboxes, writes in flight: they land (and the
		// cache shows the pods allocated) or fail (and the pods are free).
		return nil, errAllocationRace
	}
	return nil, nil
}

// candidates are the pool's idle pods that are Ready, controlled by the
// pool, built from its current template and not claimed; inFlight counts
// the ones skipped because another sandbox was just promised them.
func (a *allocator) candidates(pool *arlv1.WarmPool, pods []corev1.Pod) (out []*corev1.Pod, inFlight int) {
	hash := poolpod.TemplateHash(pool, a.pods)
	for i := range pods {
		pod := &pods[i]
		if pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle || !poolpod.IsPodReady(pod) ||
			!metav1.IsControlledBy(pod, pool) || pod.Annotations[arlv1.AnnotationTemplateHash] != hash {
			continue
		}
		if a.claims.ClaimedForSandbox(pod.UID) {
			inFlight++
			continue
		}
		if a.claims.Claimed(pod.UID) {
			continue // being deleted by its pool
		}
		out = append(out, pod)
	}
	return out, inFlight
}

// namedByAnotherSandbox reports whether the status of a sandbox other than
// sb names pod: promised by an earlier run of the operator that stopped
// before the bind landed.
func namedByAnotherSandbox(ctx context.Context, r client.Reader, pod *corev1.Pod, sb *arlv1.Sandbox) (bool, error) {
	var named arlv1.SandboxList
	if err := r.List(ctx, &named, client.InNamespace(pod.Namespace),
		client.MatchingFields{arlv1.SandboxPodNameField: pod.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return false, fmt.Errorf("list sandboxes naming pod %s: %w", pod.Name, err)
	}
	for i := range named.Items {
		if named.Items[i].UID != sb.UID {
			return true, nil
		}
	}
	return false, nil
}

// bind patches pod over to sb, conditional on it still being pool's idle
// pod. sb must not be written concurrently.
func (a *allocator) bind(ctx context.Context, sb *arlv1.Sandbox, pool *arlv1.WarmPool, cached *corev1.Pod) error {
	data, err := bindPatch(sb, pool, cached)
	if err != nil {
		return err
	}
	pod := cached.DeepCopy()
	if err := a.client.Patch(ctx, pod, client.RawPatch(types.JSONPatchType, data)); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.promises[client.ObjectKeyFromObject(sb)] = promise{sandbox: sb.UID, pod: client.ObjectKeyFromObject(pod), podUID: pod.UID, bound: true}
	return nil
}

// promised is the pod this process promised sb and whether its bind landed.
func (a *allocator) promised(sb *arlv1.Sandbox) (promise, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.promises[client.ObjectKeyFromObject(sb)]
	return p, ok && p.sandbox == sb.UID
}

// settled forgets the promise to sb once the cache shows its pod bound.
func (a *allocator) settled(sb *arlv1.Sandbox) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := client.ObjectKeyFromObject(sb)
	if p, ok := a.promises[key]; ok && p.sandbox == sb.UID {
		delete(a.promises, key)
	}
}

// withdraw forgets a promise whose status write and bind both failed: the
// pod was never named anywhere, so it goes back to the pool.
func (a *allocator) withdraw(sb *arlv1.Sandbox, pod *corev1.Pod) {
	a.claims.Release(pod.UID)
	a.settled(sb)
}

// sandboxGone deletes the pod promised to a sandbox that is going away
// before its bind landed: the pod may have served the sandbox already, so
// it never returns to the pool.
func (a *allocator) sandboxGone(ctx context.Context, key types.NamespacedName) error {
	a.mu.Lock()
	p, ok := a.promises[key]
	delete(a.promises, key)
	a.mu.Unlock()
	if !ok || p.bound {
		return nil
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.pod.Namespace, Name: p.pod.Name}}
	if err := a.client.Delete(ctx, pod, client.Preconditions{UID: &p.podUID}); client.IgnoreNotFound(err) != nil {
		a.mu.Lock()
		if _, again := a.promises[key]; !again {
			a.promises[key] = p // retried by the next pass
		}
		a.mu.Unlock()
		return fmt.Errorf("delete pod %s promised to the deleted sandbox %s: %w", p.pod.Name, key.Name, err)
	}
	log.FromContext(ctx).Info("deleted a pod promised to a sandbox that went away before the pod was bound", "pod", p.pod.Name)
	return nil
}

func spread(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
