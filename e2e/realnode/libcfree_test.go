//go:build realnode

package realnode

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	fw "github.com/arl-infra/arl/e2e/framework"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// A pool whose executor image has no libc serves Tasks: the static sidecar
// and agent run inside it. Its pool runs the node's busybox image, a static
// busybox and nothing else: no libc, no dynamic loader. The sidecar the init
// container copies in, and the agent that wraps the executor, must run there
// unaided.
func TestLibcFreeExecutorImageServesTasks(t *testing.T) {
	pool := fw.Pool("libc-free-pool", 1)
	pool.Spec.Template.Spec.Containers[0].Image = "arl.local/busybox:1"
	pool.Spec.Template.Spec.Containers[0].Command = []string{"sleep", "3600"}
	sandbox := fw.Sandbox("libc-free-sandbox", pool.Name)
	task := fw.Task("libc-free-task", sandbox.Name,
		fw.FilePatch("write", "/workspace/hello.sh", "echo hello from $(uname -s) without libc"),
		fw.Command("run", "sh", "/workspace/hello.sh"))
	t.Cleanup(func() {
		for _, obj := range []client.Object{task, sandbox, pool} {
			fw.DeleteNoWait(t, obj)
		}
	})
	fw.Recreate(t, pool, sandbox, task)
	task = fw.WaitTask(t, task.Name, arlv1.TaskStateSucceeded, 3*time.Minute)
	if out := task.Status.Stdout; !strings.Contains(out, "hello from Linux without libc") {
		t.Fatalf("task stdout %q, want the script's line", out)
	}
	fw.Get(t, sandbox.Name, sandbox)
	out, err := fw.KErr("exec", sandbox.Status.PodName, "-c", "executor", "--", "sh", "-c", "ls /lib /lib64 /usr/lib 2>/dev/null | grep -c 'libc\\.so\\|ld-linux' || true")
	if err != nil {
		t.Fatalf("kubectl exec into the executor: %v %s", err, out)
	}
	if strings.TrimSpace(out) != "0" {
		t.Fatalf("the executor image has %s libc/loader files: not the libc-free image this test needs", strings.TrimSpace(out))
	}
}
