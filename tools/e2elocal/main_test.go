//go:build e2elocal

package e2elocal

import (
	"testing"

	"github.com/arl-infra/arl/tools/internal/e2ecluster"
)

// instance 1 (bridge arl1, pods 10.244.1.0/24, apiserver :6444) runs beside
// the developer's default cluster (instance 0) without touching it.
const (
	instance = 1
	bridge   = "arl1"
)

// cluster is the suite's cluster: e2ecluster.Main fills it in.
var cluster = &e2ecluster.Cluster{Instance: instance}

func TestMain(m *testing.M) { e2ecluster.Main(m, "e2elocal", cluster) }
