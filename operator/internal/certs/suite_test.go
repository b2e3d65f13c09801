package certs

import (
	"fmt"
	"os"
	"testing"

	"github.com/arl-infra/arl/operator/internal/testenv"
)

// suite is a real kube-apiserver for the Secret and caBundle round trips.
var suite = &testenv.Suite{}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := suite.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
