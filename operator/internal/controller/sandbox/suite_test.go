package sandbox

import (
	"fmt"
	"os"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/arl-infra/arl/operator/internal/controller/warmpool"
	"github.com/arl-infra/arl/operator/internal/poolpod"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// suite runs the WarmPool and Sandbox controllers against a real
// kube-apiserver; there is no kubelet, so tests mark pods Ready themselves.
var suite = &testenv.Suite{Setup: func(mgr ctrl.Manager) error {
	claims := poolpod.NewPodClaims()
	if err := (&warmpool.WarmPoolReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Pods: podCfg, Workers: 2, Claims: claims}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&SandboxReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("arl-sandbox-controller"),
		Pods: podCfg, Workers: 8, Claims: claims, Live: mgr.GetAPIReader(),
		LastTaskTimeInterval: 3 * time.Second}).SetupWithManager(mgr)
}}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := suite.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
