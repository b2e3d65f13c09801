//go:build e2ehelm

package e2ehelm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	repo, stateDir, arlLocal, kubeconfig string
	instance                             = 4
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	repo = filepath.Dir(filepath.Dir(wd))
	if v := os.Getenv("ARL_HELM_E2E_INSTANCE"); v != "" {
		instance, _ = strconv.Atoi(v)
	}
	tmp, err := os.MkdirTemp("", "arl-e2ehelm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stateDir = filepath.Join(tmp, "state")
	kubeconfig = filepath.Join(stateDir, "kubeconfig")
	arlLocal = filepath.Join(tmp, "arl-local")
	build := exec.Command("go", "build", "-o", arlLocal, "./cmd/arl-local")
	build.Dir, build.Env = filepath.Join(repo, "tools"), append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build arl-local: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if out, err := exec.Command(arlLocal, "--state-dir="+stateDir, "--instance="+strconv.Itoa(instance), "down", "--purge").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "final down: %v\n%s", err, out)
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// run runs a command with the test cluster's kubeconfig and fails the test
// with its output when it fails.
func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := try(timeout, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

func try(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func bin(name string) string { return filepath.Join(repo, "bin", name) }

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, 3*time.Minute, bin("kubectl"), args...)
}

func requireBinary(t *testing.T, name, how string) {
	t.Helper()
	if _, err := os.Stat(bin(name)); err != nil {
		t.Fatalf("bin/%s is missing: %s", name, how)
	}
}

func TestHelmInstall(t *testing.T) {
	requireBinary(t, "helm", "make helm (helm.sh/helm/v4, pinned in tools/codegen)")
	inst := "--instance=" + strconv.Itoa(instance)
	start := time.Now()
	t.Logf("arl-local up --no-operator (instance %d)", instance)
	run(t, 20*time.Minute, arlLocal, "--state-dir="+stateDir, inst, "up", "--no-operator")
	t.Logf("cluster up in %s", time.Since(start).Round(time.Second))
	requireBinary(t, "arl-image", "arl-local up builds it (tools/image)")

	registry := strings.TrimSpace(readFile(t, filepath.Join(stateDir, "registry-address")))
	if !strings.Contains(run(t, time.Minute, arlLocal, "--state-dir="+stateDir, inst, "env"), "ARL_REGISTRY="+registry) {
		t.Fatalf("arl-local env does not name the registry %s", registry)
	}

	// Images: built (amd64, the node's architecture; make images builds
	// both) and pushed to the cluster's registry, then named by digest.
	images := t.TempDir()
	step := time.Now()
	run(t, 20*time.Minute, bin("arl-image"), "build", "--repo", repo, "--out", images, "--platforms", "amd64", "--version", "v0.0.0-e2e", "--epoch", "1700000000")
	run(t, time.Minute, bin("arl-image"), "push", "--in", images, "--registry", registry+"/arl", "--tag", "e2e")
	t.Logf("images built and pushed to %s/arl in %s", registry, time.Since(step).Round(time.Second))
	operatorDigest := strings.TrimSpace(readFile(t, filepath.Join(images, "arl-operator.digest")))
	sidecarDigest := strings.TrimSpace(readFile(t, filepath.Join(images, "arl-sidecar.digest")))

	step = time.Now()
	run(t, 5*time.Minute, bin("helm"), "install", "arl", filepath.Join(repo, "charts", "arl"),
		"--namespace", "arl-system", "--create-namespace", "--wait", "--timeout", "4m",
		"--set", "image.repository="+registry+"/arl/arl-operator", "--set", "image.digest="+operatorDigest,
		"--set", "sidecar.image.repository="+registry+"/arl/arl-sidecar", "--set", "sidecar.image.digest="+sidecarDigest,
		"--set", "logLevel=debug")
	t.Logf("helm install --wait: %s", time.Since(step).Round(time.Second))

	t.Run("typo in values is rejected", func(t *testing.T) {
		out, err := try(time.Minute, bin("helm"), "install", "arl-typo", filepath.Join(repo, "charts", "arl"),
			"--namespace", "arl-typo", "--dry-run=client", "--set", "replicaCont=3")
		if err == nil || !strings.Contains(out, "replicaCont") {
			t.Fatalf("helm install with replicaCont=3: err %v, output %q; want a schema error naming it", err, out)
		}
	})
	t.Run("two ready replicas, leader election, PDB", func(t *testing.T) {
		kubectl(t, "-n", "arl-system", "rollout", "status", "deployment/arl-operator", "--timeout=3m")
		ready := kubectl(t, "-n", "arl-system", "get", "deployment/arl-operator", "-o", "jsonpath={.status.readyReplicas}")
		if ready != "2" {
			t.Fatalf("ready replicas %q, want 2", ready)
		}
		image := kubectl(t, "-n", "arl-system", "get", "deployment/arl-operator", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		if image != registry+"/arl/arl-operator@"+operatorDigest {
			t.Fatalf("operator image %q, want the pushed digest", image)
		}
		if holder := leader(t); holder == "" {
			t.Fatal("no leader lease holder")
		}
		if min := kubectl(t, "-n", "arl-system", "get", "pdb/arl-operator", "-o", "jsonpath={.spec.minAvailable}"); min != "1" {
			t.Fatalf("PDB minAvailable %q, want 1", min)
		}
	})
	t.Run("a bad WarmPool is denied", func(t *testing.T) { expectDenied(t) })
	t.Run("quick start", func(t *testing.T) {
		kubectl(t, "apply", "-f", "examples/quickstart/warmpool.yaml", "-f", "examples/quickstart/sandbox.yaml")
		kubectl(t, "wait", "--for=jsonpath={.status.phase}=Ready", "sandbox/my-workspace", "--timeout=180s")
		image := kubectl(t, "get", "pods", "-l", "arl.infra.io/pool=python-pool", "-o", "jsonpath={.items[0].spec.containers[?(@.name==\"sidecar\")].image}")
		if image != registry+"/arl/arl-sidecar@"+sidecarDigest {
			t.Errorf("pool pod sidecar image %q, want the chart's sidecar.image by digest", image)
		}
		kubectl(t, "apply", "-f", "examples/quickstart/task.yaml")
		kubectl(t, "wait", "--for=jsonpath={.status.state}=Succeeded", "task/hello-task", "--timeout=120s")
		if out := kubectl(t, "get", "task", "hello-task", "-o", "jsonpath={.status.stdout}"); !strings.Contains(out, "Hello from ARL!") {
			t.Fatalf("task stdout %q, want Hello from ARL!", out)
		}
	})
	t.Run("killing the leader keeps webhooks answering", func(t *testing.T) {
		old := leader(t)
		// A WarmPool the webhook admits (the only kind with a webhook); a
		// dry-run create goes through it and stores nothing.
		probe := filepath.Join(t.TempDir(), "probe.yaml")
		if err := os.WriteFile(probe, []byte(probePool), 0o644); err != nil {
			t.Fatal(err)
		}
		pod := strings.SplitN(old, "_", 2)[0]
		kubectl(t, "-n", "arl-system", "delete", "pod", pod, "--wait=false", "--grace-period=0", "--force")
		killed := time.Now()
		var answered, total int
		for time.Since(killed) < 20*time.Second {
			total++
			if out, err := try(20*time.Second, bin("kubectl"), "create", "--dry-run=server", "-f", probe); err == nil {
				answered++
			} else {
				t.Logf("dry-run create: %s", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("webhook answered %d of %d dry-run creates in the 20 s after the leader %s was killed", answered, total, pod)
		if answered != total {
			t.Errorf("the webhook failed %d of %d calls while the leader was replaced", total-answered, total)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if now := leader(t); now != "" && now != old {
				t.Logf("new leader %s after %s", now, time.Since(killed).Round(time.Second))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("leader still %q two minutes after it was killed", old)
			}
			time.Sleep(time.Second)
		}
		kubectl(t, "-n", "arl-system", "rollout", "status", "deployment/arl-operator", "--timeout=3m")
		expectDenied(t)
	})
	t.Run("uninstall", func(t *testing.T) {
		kubectl(t, "delete", "-f", "examples/quickstart/task.yaml", "-f", "examples/quickstart/sandbox.yaml", "-f", "examples/quickstart/warmpool.yaml", "--wait=true", "--timeout=2m")
		run(t, 3*time.Minute, bin("helm"), "uninstall", "arl", "--namespace", "arl-system", "--wait")
		if out, err := try(time.Minute, bin("kubectl"), "get", "validatingwebhookconfiguration", "arl-validating-webhook-configuration"); err == nil {
			t.Fatalf("webhook configuration left after uninstall: %s", out)
		}
	})
}

// leader is the holder of the operator's leader-election Lease.
func leader(t *testing.T) string {
	t.Helper()
	return kubectl(t, "-n", "arl-system", "get", "lease", "arl-operator.arl.infra.io", "-o", "jsonpath={.spec.holderIdentity}")
}

const probePool = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: webhook-probe, namespace: default}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - {name: executor, image: python:3.9-slim, command: [sleep, infinity]}
`

// badPool names a container "sidecar", which only the webhook (not CEL) rejects.
const badPool = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: bad-pool, namespace: default}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - {name: executor, image: python:3.9-slim, command: [sleep, infinity]}
        - {name: sidecar, image: busybox}
`

func expectDenied(t *testing.T) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "bad-pool.yaml")
	if err := os.WriteFile(f, []byte(badPool), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := try(time.Minute, bin("kubectl"), "create", "--dry-run=server", "-f", f)
	if err == nil || !strings.Contains(out, `the name "sidecar" is reserved: the operator adds this container`) {
		t.Fatalf("bad WarmPool: err %v, output %q; want the webhook's denial", err, out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
