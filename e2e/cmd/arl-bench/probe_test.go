package main

import (
	"slices"
	"testing"
)

func TestMetricLinesReadsLabelsWithCommasAndValues(t *testing.T) {
	body := `# HELP apiserver_request_total x
apiserver_request_total{code="201",resource="tasks",subresource="",verb="POST"} 12
apiserver_request_total{code="200",resource="tasks",subresource="status",verb="PUT",note="a,b"} 3e+00
process_cpu_seconds_total 4.5
`
	got := metricLines(body)
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3: %+v", len(got), got)
	}
	if got[1].labels["subresource"] != "status" || got[1].labels["note"] != "a,b" || got[1].value != 3 {
		t.Errorf("second sample %+v", got[1])
	}
	if got[2].name != "process_cpu_seconds_total" || got[2].value != 4.5 {
		t.Errorf("third sample %+v", got[2])
	}
}

func TestDiffCountsRequestsPerPhase(t *testing.T) {
	a := sample{requests: map[string]float64{"POST tasks": 10, "PUT tasks/status": 5}, cpu: map[string]float64{"kube-apiserver": 1}}
	b := sample{requests: map[string]float64{"POST tasks": 30, "PUT tasks/status": 25, "WATCH tasks": 2}, cpu: map[string]float64{"kube-apiserver": 3}}
	c := diff(a, b)
	if c.totalRequests(notWatch) != 40 || c.cpu["kube-apiserver"] != 2 {
		t.Fatalf("requests %v cpu %v", c.requests, c.cpu)
	}
	if got := c.topRequests(20, 2); got != "POST tasks 1.00, PUT tasks/status 1.00" && got != "PUT tasks/status 1.00, POST tasks 1.00" {
		t.Errorf("topRequests = %q", got)
	}
}

func TestWithFlagReplacesAnEarlierValue(t *testing.T) {
	got := withFlag([]string{"/op", "--a=1", "--max-concurrent-tasks=64"}, "max-concurrent-tasks", "32")
	if want := []string{"/op", "--a=1", "--max-concurrent-tasks=32"}; !slices.Equal(got, want) {
		t.Fatalf("withFlag = %v, want %v", got, want)
	}
}
