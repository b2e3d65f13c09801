package envtesttest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// One environment per package, as envtest's start-up (~3 s) dominates.
var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	clientset *kubernetes.Clientset
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, cleanup, err := assetsDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest assets:", err)
		return 1
	}
	defer cleanup()
	testEnv = &envtest.Environment{BinaryAssetsDirectory: dir}
	start := time.Now()
	cfg, err = testEnv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest with", dir, ":", err)
		return 1
	}
	fmt.Printf("envtest started in %s\n", time.Since(start).Round(time.Millisecond))
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()
	clientset, err = kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientset:", err)
		return 1
	}
	return m.Run()
}
