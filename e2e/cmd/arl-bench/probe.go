package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// probe reads what a phase of a run cost: API requests by verb and
// resource (the API server's apiserver_request_total), and CPU seconds per
// component (the local cluster's pid files, and the operator's own
// process metrics).
type probe struct {
	cs       kubernetes.Interface
	stateDir string // the local cluster's state directory ("" = no per-process CPU)
	http     *http.Client
}

// sample is one reading.
type sample struct {
	at       time.Time
	requests map[string]float64 // "VERB resource[/subresource]" -> count
	cpu      map[string]float64 // component -> CPU seconds
	rss      map[string]float64 // component -> resident bytes
}

// components whose pid files the local cluster writes (tools/internal/cluster).
var pidComponents = []string{"kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager", "kwok", "arl-node"}

func (p *probe) sample(ctx context.Context) sample {
	s := sample{at: time.Now(), requests: map[string]float64{}, cpu: map[string]float64{}, rss: map[string]float64{}}
	if body, err := p.cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err == nil {
		for _, m := range metricLines(string(body)) {
			if m.name != "apiserver_request_total" {
				continue
			}
			res := m.labels["resource"]
			if sub := m.labels["subresource"]; sub != "" {
				res += "/" + sub
			}
			s.requests[m.labels["verb"]+" "+res] += m.value
		}
	}
	if p.stateDir != "" {
		for _, name := range pidComponents {
			if pid, ok := readPID(filepath.Join(p.stateDir, name+".pid")); ok {
				if cpu, rss, err := procUsage(pid); err == nil {
					s.cpu[name], s.rss[name] = cpu, rss
				}
			}
		}
	}
	if body, err := p.operatorMetrics(ctx); err == nil {
		for _, m := range metricLines(body) {
			switch m.name {
			case "process_cpu_seconds_total":
				s.cpu["operator"] = m.value
			case "process_resident_memory_bytes":
				s.rss["operator"] = m.value
			case "go_memstats_heap_inuse_bytes":
				s.rss["operator heap in use"] = m.value
			}
		}
	}
	return s
}

// operatorMetrics reads the operator's Prometheus endpoint (:8080 at its
// pod's IP, reachable from the host on the local cluster).
func (p *probe) operatorMetrics(ctx context.Context) (string, error) {
	ip, err := operatorPodIP(ctx, p.cs)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ip+":8080/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("operator metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// operatorLease is the operator's leader-election Lease in arl-system
// (cmd/arl-operator's LeaderElectionID).
const operatorLease = "arl-operator.arl.infra.io"

// operatorPodIP is the IP of the operator's leader (its Lease's holder is
// "<pod>_<id>"), the replica doing the work; the standby's informers are
// warm but its CPU is not the work's. Without a lease (no leader election),
// the first running pod.
func operatorPodIP(ctx context.Context, cs kubernetes.Interface) (string, error) {
	pods, err := cs.CoreV1().Pods("arl-system").List(ctx, metav1.ListOptions{LabelSelector: "app=arl-operator"})
	if err != nil {
		return "", fmt.Errorf("list operator pods: %w", err)
	}
	leader := ""
	if lease, err := cs.CoordinationV1().Leases("arl-system").Get(ctx, operatorLease, metav1.GetOptions{}); err == nil && lease.Spec.HolderIdentity != nil {
		leader, _, _ = strings.Cut(*lease.Spec.HolderIdentity, "_")
	}
	first := ""
	for _, pod := range pods.Items {
		if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" || pod.Status.Phase != "Running" {
			continue
		}
		if pod.Name == leader {
			return pod.Status.PodIP, nil
		}
		if first == "" {
			first = pod.Status.PodIP
		}
	}
	if first == "" {
		return "", fmt.Errorf("no running operator pod in arl-system")
	}
	return first, nil
}

// metric is one sample line of a Prometheus text exposition.
type metric struct {
	name   string
	labels map[string]string
	value  float64
}

func metricLines(body string) []metric {
	var out []metric
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		m, rest := metric{name: line, labels: map[string]string{}}, ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			m.name, rest = line[:i], strings.TrimSpace(line[j+1:])
			for _, kv := range splitLabels(line[i+1 : j]) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					m.labels[k] = strings.Trim(v, `"`)
				}
			}
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			m.name, rest = line[:i], strings.TrimSpace(line[i+1:])
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		m.value = v
		out = append(out, m)
	}
	return out
}

// splitLabels splits `a="x",b="y,z"` at commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func readPID(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.Fields(string(data) + " ")[0])
	return pid, err == nil
}

// procUsage is a process's CPU seconds (user + system) and resident bytes.
func procUsage(pid int) (cpu, rss float64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command (which may hold spaces) start at state.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseFloat(f[21], 64)
	return (utime + stime) / 100, pages * float64(os.Getpagesize()), nil // USER_HZ is 100 on Linux
}

// cost is what happened between two samples.
type cost struct {
	wall     time.Duration
	requests map[string]float64
	cpu      map[string]float64
}

func diff(a, b sample) cost {
	c := cost{wall: b.at.Sub(a.at), requests: map[string]float64{}, cpu: map[string]float64{}}
	for k, v := range b.requests {
		if d := v - a.requests[k]; d > 0 {
			c.requests[k] = d
		}
	}
	for k, v := range b.cpu {
		if old, ok := a.cpu[k]; ok && v >= old {
			c.cpu[k] = v - old
		}
	}
	return c
}

func (c cost) totalRequests(match func(string) bool) float64 {
	var n float64
	for k, v := range c.requests {
		if match == nil || match(k) {
			n += v
		}
	}
	return n
}

// topRequests lists the most frequent requests, each divided by per.
func (c cost) topRequests(per float64, n int) string {
	keys := make([]string, 0, len(c.requests))
	for k := range c.requests {
		if !strings.HasPrefix(k, "WATCH") { // a watch is one long request
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return int(c.requests[b] - c.requests[a]) })
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, c.requests[k]/per))
	}
	return strings.Join(parts, ", ")
}

// cpuLine lists CPU seconds per component, busiest first, as a share of
// the wall time (1.00 = one core busy).
func (c cost) cpuLine() string {
	keys := make([]string, 0, len(c.cpu))
	for k := range c.cpu {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case c.cpu[a] > c.cpu[b]:
			return -1
		case c.cpu[a] < c.cpu[b]:
			return 1
		}
		return 0
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, c.cpu[k]/c.wall.Seconds()))
	}
	return strings.Join(parts, ", ")
}
