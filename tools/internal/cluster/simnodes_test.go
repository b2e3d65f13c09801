package cluster

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckSimNodesFailsFastAboveTheMachine(t *testing.T) {
	lim := SimNodeLimits{Cores: 2, MemAvailable: 8 << 30}
	for _, tc := range []struct {
		nodes, pods int
		want        string // "" = accepted
	}{
		{0, DefaultSimPods, ""},
		{91, DefaultSimPods, ""},
		{200, DefaultSimPods, ""},
		{201, DefaultSimPods, "holds at most 200 simulated nodes"},
		{-1, DefaultSimPods, "want 0 or more"},
		{10, 0, "want 1 to 10000"},
		{200, 1000, "only 8192 MiB of memory is available"},
	} {
		err := CheckSimNodes(tc.nodes, tc.pods, lim)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckSimNodes(%d, %d) = %v, want nil", tc.nodes, tc.pods, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckSimNodes(%d, %d) = %v, want an error containing %q", tc.nodes, tc.pods, err, tc.want)
		}
	}
}

func TestSimNodeListCarriesKwoksLabelTaintAndCapacity(t *testing.T) {
	var list struct {
		Kind  string
		Items []struct {
			Metadata struct {
				Name        string
				Labels      map[string]string
				Annotations map[string]string
			}
			Spec struct {
				Taints []struct{ Key, Value, Effect string }
			}
			Status struct{ Allocatable map[string]string }
		}
	}
	if err := json.Unmarshal(simNodeList(3, 250), &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != "List" || len(list.Items) != 3 {
		t.Fatalf("kind %s with %d items, want a List of 3", list.Kind, len(list.Items))
	}
	n := list.Items[2]
	if n.Metadata.Name != "kwok-node-2" || n.Metadata.Labels["type"] != "kwok" || n.Metadata.Annotations["kwok.x-k8s.io/node"] != "fake" {
		t.Errorf("node %s labels %v annotations %v", n.Metadata.Name, n.Metadata.Labels, n.Metadata.Annotations)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0] != (struct{ Key, Value, Effect string }{"kwok.x-k8s.io/node", "fake", "NoSchedule"}) {
		t.Errorf("taints %v", n.Spec.Taints)
	}
	if n.Status.Allocatable["pods"] != "250" {
		t.Errorf("allocatable %v", n.Status.Allocatable)
	}
}

func TestSimNodesRecordedInTheStateDirectory(t *testing.T) {
	l := NewLayout(t.TempDir(), t.TempDir(), "", 7)
	if got := len(Components(l)); got != 6 { // with the registry
		t.Fatalf("%d components without simulated nodes, want 6", got)
	}
	if changed, err := applySimNodesOption(l, 4, 0); err != nil || !changed {
		t.Fatalf("applySimNodesOption(4) = %v, %v", changed, err)
	}
	if n, pods := readSimNodes(l); n != 4 || pods != DefaultSimPods {
		t.Fatalf("recorded %d nodes of %d pods", n, pods)
	}
	comps := Components(l)
	if last := comps[len(comps)-1]; last.Name != "kwok" || last.Port != 10970 {
		t.Fatalf("last component %s on %d, want kwok on 10970", last.Name, last.Port)
	}
	if changed, _ := applySimNodesOption(l, -1, 0); changed {
		t.Fatal("keeping the recorded count reported a change")
	}
	if changed, _ := applySimNodesOption(l, 4, DefaultSimPods); changed {
		t.Fatal("the same count reported a change")
	}
	if _, err := applySimNodesOption(l, 0, 0); err != nil {
		t.Fatal(err)
	}
	if l.SimNodes() != 0 || len(Components(l)) != 6 {
		t.Fatalf("after --sim-nodes 0: %d nodes, %d components", l.SimNodes(), len(Components(l)))
	}
}
