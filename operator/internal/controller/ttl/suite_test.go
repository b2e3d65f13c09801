package ttl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	"github.com/arl-infra/arl/operator/internal/activity"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// The envtest suite: a real kube-apiserver and etcd (KUBEBUILDER_ASSETS)
// and the TTL controllers in a manager. Task and Sandbox statuses are
// written directly, as their controllers would.

const testNamespace = "ttl-tests"

var (
	k8s        client.Client
	testScheme = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttl envtest suite:", err)
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
	level := zapcore.ErrorLevel
	if os.Getenv("ARL_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(level)))
	_ = clientgoscheme.AddToScheme(testScheme)
	_ = arlv1.AddToScheme(testScheme)

	_, file, _, _ := goruntime.Caller(0)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(filepath.Dir(file), "..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return 1, fmt.Errorf("start envtest (KUBEBUILDER_ASSETS=%s): %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	defer func() { _ = env.Stop() }()

	k8s, err = client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		return 1, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}); err != nil {
		return 1, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return 1, err
	}
	if err := (&TaskTTLReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return 1, fmt.Errorf("task TTL controller: %w", err)
	}
	if err := (&SandboxTTLReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("arl-ttl-controller"),
		TaskTimes: activity.NewTaskTimes()}).SetupWithManager(mgr); err != nil {
		return 1, fmt.Errorf("sandbox TTL controller: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	defer func() { cancel(); <-done }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return 1, errors.New("manager cache did not sync")
	}
	return m.Run(), nil
}
