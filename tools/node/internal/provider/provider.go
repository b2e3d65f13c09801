// Package provider is a virtual-kubelet provider that runs pods as local
// processes in per-pod namespaces (see package sandbox).
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/arl-infra/arl/tools/node/internal/netsetup"
)

// Config is what the provider needs from the node.
type Config struct {
	NodeName      string
	StateDir      string
	Self          string // the node binary, re-executed inside pods
	Bridge        string
	IPAM          *netsetup.IPAM
	Routes        []netsetup.Route // other networks pods reach through the host
	HostIP        string
	APIServerHost string
	APIServerPort int
	NodePath      string
	Images        ImageBinaries
	Hidden        []string // host directories covered in every container
	Client        kubernetes.Interface
	Recorder      record.EventRecorder
	Log           *slog.Logger
}

// Provider implements nodeutil.Provider and node.PodNotifier.
type Provider struct {
	cfg Config

	mu     sync.Mutex
	pods   map[string]*podRuntime // namespace/name
	notify func(*corev1.Pod)
}

// New returns a provider; the state dir must have been cleaned of earlier
// runs' pods (see Cleanup).
func New(cfg Config) (*Provider, error) {
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "pods"), 0o755); err != nil {
		return nil, fmt.Errorf("create pods dir: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Provider{cfg: cfg, pods: map[string]*podRuntime{}}, nil
}

func podKey(namespace, name string) string { return namespace + "/" + name }

// NotifyPods registers the callback for asynchronous status updates.
func (p *Provider) NotifyPods(_ context.Context, cb func(*corev1.Pod)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notify = cb
}

func (p *Provider) notifier() func(*corev1.Pod) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notify
}

// CreatePod starts the pod in the background and returns at once; its
// status is reported through NotifyPods as it progresses.
func (p *Provider) CreatePod(_ context.Context, pod *corev1.Pod) error {
	key := podKey(pod.Namespace, pod.Name)
	p.mu.Lock()
	old, had := p.pods[key]
	if had && old.uid == pod.UID {
		p.mu.Unlock()
		return nil
	}
	if had {
		// A pod of the same name with another UID: the old one is gone
		// from the apiserver, so it must not keep running here.
		go old.delete(time.Second)
	}
	pr := newPodRuntime(p, pod.DeepCopy())
	p.pods[key] = pr
	podsRunning.Set(float64(len(p.pods)))
	p.mu.Unlock()
	p.cfg.Log.Info("creating pod", "pod", key, "uid", pod.UID)
	pr.start()
	return nil
}

// UpdatePod takes the new labels and annotations; nothing restarts.
func (p *Provider) UpdatePod(_ context.Context, pod *corev1.Pod) error {
	pr := p.lookup(pod.Namespace, pod.Name)
	if pr == nil || pr.uid != pod.UID {
		return errdefs.NotFoundf("pod %s/%s is not running on this node", pod.Namespace, pod.Name)
	}
	pr.update(pod)
	return nil
}

// DeletePod stops the pod's processes (SIGTERM, SIGKILL after the grace
// period) in the background, then removes the pod object at once.
func (p *Provider) DeletePod(_ context.Context, pod *corev1.Pod) error {
	pr := p.lookup(pod.Namespace, pod.Name)
	if pr == nil || pr.uid != pod.UID {
		return errdefs.NotFoundf("pod %s/%s is not running on this node", pod.Namespace, pod.Name)
	}
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	pr.delete(grace)
	return nil
}

// GetPod returns the pod with its current status.
func (p *Provider) GetPod(_ context.Context, namespace, name string) (*corev1.Pod, error) {
	pr := p.lookup(namespace, name)
	if pr == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not known", namespace, name)
	}
	return pr.snapshotPod(), nil
}

// GetPodStatus returns the pod's current status.
func (p *Provider) GetPodStatus(ctx context.Context, namespace, name string) (*corev1.PodStatus, error) {
	pod, err := p.GetPod(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return &pod.Status, nil
}

// GetPods lists every pod the node runs.
func (p *Provider) GetPods(context.Context) ([]*corev1.Pod, error) {
	p.mu.Lock()
	prs := make([]*podRuntime, 0, len(p.pods))
	for _, pr := range p.pods {
		prs = append(prs, pr)
	}
	p.mu.Unlock()
	out := make([]*corev1.Pod, 0, len(prs))
	for _, pr := range prs {
		out = append(out, pr.snapshotPod())
	}
	return out, nil
}

func (p *Provider) lookup(namespace, name string) *podRuntime {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pods[podKey(namespace, name)]
}

func (p *Provider) forget(pr *podRuntime) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pods[pr.key] == pr {
		delete(p.pods, pr.key)
	}
	podsRunning.Set(float64(len(p.pods)))
}

// removePodObject deletes the API object now that its processes are gone,
// instead of letting virtual-kubelet wait out the grace period. It reports
// whether the object is gone (deleted now, already gone, or replaced by a
// pod of another UID).
func (p *Provider) removePodObject(ctx context.Context, namespace, name string, uid types.UID) (bool, error) {
	if p.cfg.Client == nil {
		return false, nil
	}
	zero := int64(0)
	err := p.cfg.Client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !isNotFoundOrConflict(err) {
		return false, fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	return true, nil
}

// Shutdown stops every pod (used when the node exits).
func (p *Provider) Shutdown(grace time.Duration) {
	p.mu.Lock()
	prs := make([]*podRuntime, 0, len(p.pods))
	for _, pr := range p.pods {
		prs = append(prs, pr)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pr := range prs {
		wg.Add(1)
		go func() { defer wg.Done(); pr.stopProcesses(grace); pr.teardown() }()
	}
	wg.Wait()
}
