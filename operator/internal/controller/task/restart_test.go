package task

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// The operator is stopped while tasks run a step and a new one is started:
// the running step ends and is recorded, the new operator resumes each task
// at its next step, no step runs twice, and every task finishes.
func TestRestartRunsNoStepTwiceAndEveryTaskFinishes(t *testing.T) {
	ns := uniqueName(t, "ns")
	ctx := context.Background()
	if err := createFixtures(ctx, ns); err != nil {
		t.Fatal(err)
	}
	dir := testDir(t)
	sb := createReadySandbox(t, ns, "sb", dir)

	ctxA, stopA := context.WithCancel(ctx)
	doneA, err := startManager(ctxA, ns)
	if err != nil {
		stopA()
		t.Fatal(err)
	}

	const n = 5
	logOf := func(step string, i int) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.log", step, i)) }
	for i := range n {
		create(t, newTask(ns, fmt.Sprintf("restart-%d", i), sb.Name,
			command("a", "sh", "-c", "echo a >> "+logOf("a", i)),
			command("b", "sh", "-c", "echo b >> "+logOf("b", i)+"; sleep 4"),
			command("c", "sh", "-c", "echo c >> "+logOf("c", i)),
		))
	}
	// Stop the first operator while every task is in its step b.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < n; {
		if _, err := os.Stat(logOf("b", i)); err == nil {
			i++
			continue
		}
		if time.Now().After(deadline) {
			stopA()
			t.Fatalf("task %d never reached step b", i)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := time.Now()
	stopA()
	<-doneA
	t.Logf("first operator stopped in %v (it waited for the running steps)", time.Since(stopped))

	for i := range n {
		var task arlv1.Task
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("restart-%d", i)}, &task); err != nil {
			t.Fatal(err)
		}
		if task.Status.State != arlv1.TaskStateRunning || task.Status.Reason != arlv1.TaskReasonPaused || stepStates(&task) != "a=Succeeded,b=Succeeded" {
			t.Fatalf("task %d after the stop: state %s reason %s steps %s; want Running, Paused after b", i, task.Status.State, task.Status.Reason, stepStates(&task))
		}
	}

	ctxB, stopB := context.WithCancel(ctx)
	doneB, err := startManager(ctxB, ns)
	if err != nil {
		stopB()
		t.Fatal(err)
	}
	defer func() { stopB(); <-doneB }()

	for i := range n {
		got := waitFinished(t, ns, fmt.Sprintf("restart-%d", i), 20*time.Second)
		if got.Status.State != arlv1.TaskStateSucceeded || got.Status.Attempts != 1 || stepStates(got) != "a=Succeeded,b=Succeeded,c=Succeeded" {
			t.Fatalf("task %d: state %s attempts %d steps %s (%s)", i, got.Status.State, got.Status.Attempts, stepStates(got), got.Status.Message)
		}
		for _, step := range []string{"a", "b", "c"} {
			if lines := countLines(t, logOf(step, i)); lines != 1 {
				t.Fatalf("task %d step %s ran %d times, want exactly 1", i, step, lines)
			}
		}
	}
}
