package webhook

import (
	"fmt"
	"os"
	"testing"

	"github.com/arl-infra/arl/operator/internal/testenv"
)

// suite serves the webhooks to a real kube-apiserver that has the generated
// ValidatingWebhookConfiguration installed.
var suite = &testenv.Suite{Webhooks: true, Setup: Setup}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := suite.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
