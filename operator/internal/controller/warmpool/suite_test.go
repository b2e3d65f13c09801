package warmpool

import (
	"fmt"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/arl-infra/arl/operator/internal/poolpod"
	"github.com/arl-infra/arl/operator/internal/testenv"
)

// suiteClaims is the suite's WarmPool controller's ledger; a test claims
// pods in it as the Sandbox controller would.
var suiteClaims = poolpod.NewPodClaims()

// suite runs the WarmPool, NetworkPolicy and token Secret controllers against a real
// kube-apiserver; it starts with the first test that needs it.
var suite = &testenv.Suite{Setup: func(mgr ctrl.Manager) error {
	if err := (&WarmPoolReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("arl-warmpool-controller"), Pods: testPods, Workers: 2, Claims: suiteClaims}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&NetworkPolicyReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("arl-warmpool-controller"), OperatorNamespace: testOperatorNamespace}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&TokenSecretReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}).SetupWithManager(mgr)
}}

// testOperatorNamespace is where the suite's operator "runs".
const testOperatorNamespace = "arl-system"

func TestMain(m *testing.M) {
	code := m.Run()
	if err := suite.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
