package task

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/indexer"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// The envtest suite: a real kube-apiserver and etcd (KUBEBUILDER_ASSETS), a
// real arl-sidecar process on loopback standing in for a sandbox pod, and
// the Task controller in a manager. Sandboxes are created with a
// Ready status written directly (no Sandbox controller runs here).

const (
	testNamespace = "task-tests"
	testPool      = "test-pool"
)

var (
	testEnv     *envtest.Environment
	restConfig  *rest.Config
	k8s         client.WithWatch
	testScheme  = runtime.NewScheme()
	sidecarPort int
	// sidecarBin is the built arl-sidecar, suiteTmp the suite's temp dir,
	// for tests that start a sidecar of their own.
	sidecarBin, suiteTmp string
	// workspace is the sidecar's workspace and allowed root; every file a
	// test task touches lives under it.
	workspace    string
	sidecarToken = "test-token-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	// stopShared stops the manager shared by the tests of testNamespace.
	stopShared context.CancelFunc
)

func TestMain(m *testing.M) {
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "task envtest suite:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (int, error) {
	if err := testenv.RequireAssets(); err != nil {
		return 1, err
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapLevel())))
	_ = clientgoscheme.AddToScheme(testScheme)
	_ = arlv1.AddToScheme(testScheme)

	tmp, err := os.MkdirTemp("", "arl-task-envtest-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	workspace = filepath.Join(tmp, "workspace")
	if err := os.MkdirAll(workspace, 0o755); err != nil {
		return 1, err
	}

	sidecarBin = filepath.Join(tmp, "arl-sidecar")
	suiteTmp = tmp
	if err := buildSidecar(sidecarBin); err != nil {
		return 1, err
	}
	port, stopSidecar, err := startSidecar(sidecarBin, tmp)
	if err != nil {
		return 1, err
	}
	sidecarPort = port
	defer stopSidecar()

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot(), "operator", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	restConfig, err = testEnv.Start()
	if err != nil {
		return 1, fmt.Errorf("start envtest (KUBEBUILDER_ASSETS=%s): %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	defer func() { _ = testEnv.Stop() }()
	restConfig.QPS = -1 // no client-side rate limit, as controller-runtime's default config

	k8s, err = client.NewWithWatch(restConfig, client.Options{Scheme: testScheme})
	if err != nil {
		return 1, err
	}
	if err := createFixtures(context.Background(), testNamespace); err != nil {
		return 1, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := startManager(ctx, testNamespace)
	if err != nil {
		cancel()
		return 1, err
	}
	stopShared = func() { cancel(); <-done }
	defer stopShared()
	return m.Run(), nil
}

// zapLevel keeps test output to errors unless ARL_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("ARL_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

func repoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// buildSidecar builds the real arl-sidecar from the sidecar module.
func buildSidecar(out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/arl-sidecar")
	cmd.Dir = filepath.Join(repoRoot(), "sidecar")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build arl-sidecar in %s: %w", cmd.Dir, err)
	}
	return nil
}

// startSidecar runs `arl-sidecar serve` on a free loopback port with the
// suite's token, the workspace and extra flags.
func startSidecar(bin, tmp string, extra ...string) (int, func(), error) {
	port, err := freePort()
	if err != nil {
		return 0, nil, err
	}
	tokenFile := filepath.Join(tmp, "token")
	if err := os.WriteFile(tokenFile, []byte(sidecarToken), 0o600); err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve",
		"--http-addr=",
		"--grpc-addr=127.0.0.1:" + strconv.Itoa(port),
		"--workspace=" + workspace,
		"--allowed-roots=" + workspace,
		"--token-file=" + tokenFile,
	}, extra...)...)
	cmd.Env = append(os.Environ(), "ARL_SIDECAR_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start arl-sidecar: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return port, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return 0, nil, fmt.Errorf("arl-sidecar did not listen on :%d within 20s: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// createFixtures makes the namespace and a WarmPool demanding tokens (each
// sandbox's pod and token Secret come with its status: setSandboxStatus).
func createFixtures(ctx context.Context, ns string) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&arlv1.WarmPool{
			ObjectMeta: metav1.ObjectMeta{Name: testPool, Namespace: ns},
			Spec: arlv1.WarmPoolSpec{
				Replicas:    ptr.To[int32](0),
				SidecarAuth: arlv1.SidecarAuthToken,
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: arlv1.ExecutorContainerName, Image: "python:3.9-slim"},
				}}},
			},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// startManager runs a manager with the Task controller that sees
// only namespace ns; done closes when it has stopped.
func startManager(ctx context.Context, ns string, tune ...func(*Options)) (<-chan struct{}, error) {
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Trimmed like the operator's own cache (cmd/arl-operator/cacheoptions.go).
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{ns: {}},
			DefaultTransform:  cache.TransformStripManagedFields(),
		},
		// Several managers live in this process one after another.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("new manager: %w", err)
	}
	// As main.go does: every index first, then the controllers (whose own
	// registration of the Task index must then be a no-op).
	if err := indexer.Setup(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("indexer.Setup: %w", err)
	}
	opts := Options{SidecarPort: sidecarPort, MaxConcurrentTasks: 32, SucceededEvents: true}
	for _, f := range tune {
		f(&opts)
	}
	r := &TaskReconciler{Client: mgr.GetClient(), Live: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("arl-task-controller"), Options: opts}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("task controller: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped with an error:", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, errors.New("manager cache did not sync")
	}
	return done, nil
}
