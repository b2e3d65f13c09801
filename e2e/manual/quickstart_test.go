package manual

import (
	"strings"
	"testing"
	"time"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestQuickStart(t *testing.T) {
	quickStart(t)
	pool := &arlv1.WarmPool{}
	fw.Get(t, "python-pool", pool)
	if got := pool.DesiredReplicas(); got != 3 {
		t.Fatalf("warmpool replicas = %d", got)
	}
	applyTask(t, "quickstart/task.yaml", "hello-task")
	fw.KWait(t, "task/hello-task", ".status.state", "Succeeded", 60*time.Second)

	want := "Hello from ARL!\nTask executed successfully\n"
	if got := taskField(t, "hello-task", ".status.stdout"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got := taskField(t, "hello-task", ".status.stderr"); got != "" {
		t.Errorf("stderr = %q, want empty", got)
	}
	if got := taskField(t, "hello-task", ".status.exitCode"); got != "0" {
		t.Errorf("exitCode = %q, want 0", got)
	}
	table := fw.K(t, "get", "task", "hello-task")
	if !strings.Contains(table, "STATE") || !strings.Contains(table, "Succeeded") {
		t.Errorf("kubectl get task shows:\n%s", table)
	}
	describe := fw.K(t, "describe", "task", "hello-task")
	if !strings.Contains(describe, "Succeeded") {
		t.Errorf("kubectl describe task lacks the state:\n%s", describe)
	}
	pods := fw.K(t, "get", "warmpool,sandbox,task", "-o", "wide")
	for _, want := range []string{"python-pool", "my-workspace", "hello-task"} {
		if !strings.Contains(pods, want) {
			t.Errorf("kubectl get warmpool,sandbox,task -o wide lacks %s:\n%s", want, pods)
		}
	}
}
