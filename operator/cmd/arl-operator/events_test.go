package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// operatorArgsEnv carries the flags of an operator run in a child process of
// the test binary (see TestMain); controller names are process-global, so
// each run needs a process of its own.
const operatorArgsEnv = "ARL_TEST_OPERATOR_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(operatorArgsEnv); args != "" {
		os.Exit(runOperatorChild(strings.Fields(args)))
	}
	os.Exit(m.Run())
}

// runOperatorChild is the operator (run) with args, until SIGTERM.
func runOperatorChild(args []string) int {
	fs := flag.NewFlagSet("arl-operator", flag.ContinueOnError)
	cfg := bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// TestEventsFlag runs the operator twice on one scenario that makes all four
// controllers act: a pool creates a pod (WarmPool), a sandbox waits for it
// and is then allocated (Sandbox), a task waits for its sandbox (Task) and
// a sandbox of a missing pool is deleted by its idleTimeoutSeconds (TTL). With events on,
// each controller records events under its own name; with --events=false
// none is recorded.
func TestEventsFlag(t *testing.T) {
	env, err := testenv.Start(false)
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	}()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	every := []string{"arl-sandbox-controller", "arl-task-controller", "arl-ttl-controller", "arl-warmpool-controller"}
	for _, tc := range []struct {
		flag string
		want []string // reporting controllers that recorded events
	}{
		{"--events=true", every},
		{"--events=false", nil},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			ns, err := env.Namespace(context.Background(), "events")
			if err != nil {
				t.Fatal(err)
			}
			stop := startOperatorChild(t, kubeconfig, ns, tc.flag)
			defer stop()
			playScenario(t, env.Client, ns)
			if tc.want == nil {
				// The scenario's transitions are done; give any event
				// write still in flight time to land before counting.
				time.Sleep(2 * time.Second)
			}
			var got []string
			testenv.Eventually(t, 30*time.Second, fmt.Sprintf("events from %v", tc.want), func() (bool, error) {
				var list eventsv1.EventList
				if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
					return false, err
				}
				got = reporters(list.Items)
				return fmt.Sprint(got) == fmt.Sprint(tc.want), fmt.Errorf("events from %v", got)
			})
		})
	}
}

// startOperatorChild runs the operator, watching only ns, in a child process.
func startOperatorChild(t *testing.T, kubeconfig, ns string, flags ...string) (stop func()) {
	t.Helper()
	args := append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0", "--enable-webhooks=false",
		"--leader-elect=false", "--namespace=" + ns}, flags...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, operatorArgsEnv+"="+strings.Join(args, " "))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the operator: %v", err)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Errorf("operator: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("operator did not stop on SIGTERM")
		}
	}
}

// playScenario drives the four controllers through transitions that each
// record an event when events are on.
func playScenario(t *testing.T, c client.Client, ns string) {
	t.Helper()
	ctx := context.Background()
	pool := &arlv1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: ns},
		Spec: arlv1.WarmPoolSpec{Replicas: ptr.To[int32](1), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "executor", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}},
		}}},
	}
	sb := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "my-workspace", Namespace: ns},
		Spec: arlv1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}}
	task := &arlv1.Task{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns},
		Spec: arlv1.TaskSpec{SandboxRef: "my-workspace", Steps: []arlv1.TaskStep{{Name: "hi", Type: arlv1.StepTypeCommand, Command: []string{"echo", "hi"}}}}}
	idle := &arlv1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: ns},
		Spec: arlv1.SandboxSpec{PoolRef: "no-such-pool", KeepAlive: true, IdleTimeoutSeconds: ptr.To[int32](1)}}
	for _, obj := range []client.Object{sb, task, pool, idle} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("create %s: %v", obj.GetName(), err)
		}
	}
	testenv.Eventually(t, 30*time.Second, "the task waits for its sandbox", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(task), task)
		return err == nil && task.Status.State == arlv1.TaskStatePending && task.Status.Message != "", fmt.Errorf("%+v %v", task.Status, err)
	})
	var pods corev1.PodList
	testenv.Eventually(t, 30*time.Second, "a pool pod", func() (bool, error) {
		err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{arlv1.LabelPool: "python-pool"})
		return err == nil && len(pods.Items) == 1, err
	})
	if err := testenv.MarkPodReady(ctx, c, &pods.Items[0], "10.244.0.9"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "a sandbox Ready", func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(sb), sb); err != nil {
			return false, err
		}
		return sb.Status.PodName != "" || sb.Status.Phase == arlv1.SandboxPhaseReady, fmt.Errorf("%+v", sb.Status)
	})
	testenv.Eventually(t, 30*time.Second, "the idle sandbox deleted", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(idle), &arlv1.Sandbox{})
		return apierrors.IsNotFound(err), err
	})
}

// reporters lists the distinct reporting controllers of events, sorted.
func reporters(events []eventsv1.Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range events {
		if !seen[e.ReportingController] {
			seen[e.ReportingController] = true
			out = append(out, e.ReportingController)
		}
	}
	sort.Strings(out)
	return out
}
