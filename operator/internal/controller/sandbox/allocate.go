package sandbox

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/controller/warmpool"
)

// errAllocationRace: every candidate was taken by someone else between the
// cache read and the write; the caller retries with a fresh cache view.
var errAllocationRace = errors.New("every idle pod seen was taken concurrently")

// claimMemory is how long a pod this process took (or lost a race for) is
// skipped as a candidate while the cache catches up.
const claimMemory = 10 * time.Second

// allocator binds idle pods to sandboxes. Binding is one conditional patch
// of the pod (bindPatch): its labels become state=allocated,
// sandbox=<name>, and its controller reference moves from the pool to the
// sandbox (so deleting the sandbox deletes the pod). The patch only applies
// to an idle pod still controlled by the pool, so two sandboxes can never
// both win the same pod.
type allocator struct {
	client client.Client
	pods   warmpool.PodConfig

	mu sync.Mutex
	// taken: pod UID -> when this process took it or lost it.
	taken map[types.UID]time.Time
	// bound: sandbox UID -> pod name, until the cached sandbox shows it in
	// its status; a pass reading a stale sandbox never binds a second pod.
	bound map[types.UID]string
}

func newAllocator(c client.Client, pods warmpool.PodConfig) *allocator {
	return &allocator{client: c, pods: pods, taken: map[types.UID]time.Time{}, bound: map[types.UID]string{}}
}

// allocate binds one idle, Ready pod of pool to sb. It returns nil, nil when
// the pool has no such pod.
func (a *allocator) allocate(ctx context.Context, sb *arlv1.Sandbox, pool *arlv1.WarmPool) (*corev1.Pod, error) {
	var idle corev1.PodList
	if err := a.client.List(ctx, &idle, client.InNamespace(sb.Namespace),
		client.MatchingFields{arlv1.PodPoolStateField: arlv1.PoolStateKey(pool.Name, arlv1.PodStateIdle)}); err != nil {
		return nil, fmt.Errorf("list idle pods of warmpool %s: %w", pool.Name, err)
	}
	candidates := a.candidates(pool, idle.Items)
	if len(candidates) == 0 {
		return nil, nil
	}
	// Concurrent workers start at different offsets to collide less.
	start := int(spread(string(sb.UID)) % uint32(len(candidates)))
	for i := range candidates {
		pod := candidates[(start+i)%len(candidates)]
		bound, err := a.bind(ctx, sb, pool, pod)
		if err == nil {
			return bound, nil
		}
		if lostBindRace(err) {
			allocationConflicts.Inc()
			log.FromContext(ctx).V(1).Info("lost the race for a pod", "pod", pod.Name, "reason", err.Error())
			a.remember(pod.UID)
			continue
		}
		return nil, fmt.Errorf("bind pod %s to sandbox %s: %w", pod.Name, sb.Name, err)
	}
	return nil, errAllocationRace
}

// candidates are the pool's idle pods that are Ready, controlled by the
// pool, built from its current template and not just taken.
func (a *allocator) candidates(pool *arlv1.WarmPool, pods []corev1.Pod) []*corev1.Pod {
	hash := warmpool.TemplateHash(pool, a.pods)
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*corev1.Pod
	for i := range pods {
		pod := &pods[i]
		if at, ok := a.taken[pod.UID]; ok {
			if now.Sub(at) < claimMemory {
				continue
			}
			delete(a.taken, pod.UID)
		}
		if pod.Labels[arlv1.LabelState] != arlv1.PodStateIdle || !warmpool.IsPodReady(pod) ||
			!metav1.IsControlledBy(pod, pool) || pod.Annotations[arlv1.AnnotationTemplateHash] != hash {
			continue
		}
		out = append(out, pod)
	}
	return out
}

// bind patches pod over to sb, conditional on it still being pool's idle pod.
func (a *allocator) bind(ctx context.Context, sb *arlv1.Sandbox, pool *arlv1.WarmPool, cached *corev1.Pod) (*corev1.Pod, error) {
	data, err := bindPatch(sb, pool, cached)
	if err != nil {
		return nil, err
	}
	pod := cached.DeepCopy()
	if err := a.client.Patch(ctx, pod, client.RawPatch(types.JSONPatchType, data)); err != nil {
		return nil, err
	}
	a.remember(pod.UID)
	a.mu.Lock()
	a.bound[sb.UID] = pod.Name
	a.mu.Unlock()
	return pod, nil
}

func (a *allocator) remember(uid types.UID) {
	a.mu.Lock()
	a.taken[uid] = time.Now()
	a.mu.Unlock()
}

// boundPod is the pod this process bound to sb whose name the status may
// not show yet.
func (a *allocator) boundPod(sb *arlv1.Sandbox) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bound[sb.UID]
}

// recorded forgets the in-memory binding of sb once the cached sandbox
// shows it in its status (or the sandbox is going away).
func (a *allocator) recorded(sb *arlv1.Sandbox) {
	a.mu.Lock()
	delete(a.bound, sb.UID)
	a.mu.Unlock()
}

func spread(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
