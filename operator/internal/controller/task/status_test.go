package task

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func code(c int32) *int32 { return &c }

func okStep(name, stdout string, exit int32) stepOutcome {
	return stepOutcome{status: arlv1.StepStatus{Name: name, State: arlv1.StepStateSucceeded, ExitCode: code(exit), Attempt: 1}, stdout: stdout}
}

func failedStep(name, stderr string, exit int32, reason string) stepOutcome {
	s := okStep(name, "", exit)
	s.status.State = arlv1.StepStateFailed
	s.stderr = stderr
	s.failReason = reason
	return s
}

func TestClaimedStatusMarksTheFirstStepRunning(t *testing.T) {
	task := testTask(2, "a", "b")
	now := time.Now()
	st := claimedStatus(task, plan{attempt: 1, maxAttempts: 3, podName: "pod-1", taskStart: now}, now)
	if st.State != arlv1.TaskStateRunning || st.Attempts != 1 || st.PodName != "pod-1" {
		t.Fatalf("claim = %+v", st)
	}
	if len(st.Steps) != 1 || st.Steps[0].Name != "a" || st.Steps[0].State != arlv1.StepStateRunning || st.Steps[0].Attempt != 1 {
		t.Fatalf("claim must mark exactly the first step Running: %+v", st.Steps)
	}
	if st.StartTime == nil || !st.StartTime.Time.Equal(now) {
		t.Fatalf("startTime = %v, want %v", st.StartTime, now)
	}
	checkJobConditions(t, st)
	if c := meta.FindStatusCondition(st.Conditions, arlv1.TaskConditionComplete); c.ObservedGeneration != 1 {
		t.Fatalf("Complete condition = %+v", c)
	}
}

func TestClaimedStatusOnResumeKeepsTheDoneSteps(t *testing.T) {
	task := withSteps(testTask(0, "a", "b", "c"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded)
	task.Status.Stdout = "from a\n"
	st := claimedStatus(task, plan{attempt: 1, maxAttempts: 1, resumeFrom: 1}, time.Now())
	if len(st.Steps) != 2 || st.Steps[0].State != arlv1.StepStateSucceeded || st.Steps[1].Name != "b" || st.Steps[1].State != arlv1.StepStateRunning {
		t.Fatalf("resume claim steps = %+v", st.Steps)
	}
	if st.Stdout != "from a\n" {
		t.Fatalf("resume must keep the output so far, got %q", st.Stdout)
	}
}

func TestFinishedStatus(t *testing.T) {
	tests := []struct {
		name        string
		retries     int32
		out         attemptOutcome
		wantVerdict verdict
		wantState   arlv1.TaskState
		wantReason  string
		wantExit    *int32
		wantStdout  string
		wantSteps   []arlv1.StepState
	}{
		{
			name:        "every step succeeded",
			out:         attemptOutcome{steps: []stepOutcome{okStep("a", "", 0), okStep("b", "hi\n", 0), okStep("c", "there\n", 0)}},
			wantVerdict: verdictSucceeded, wantState: arlv1.TaskStateSucceeded, wantReason: arlv1.TaskReasonSucceeded,
			wantExit: code(0), wantStdout: "hi\nthere\n",
			wantSteps: []arlv1.StepState{arlv1.StepStateSucceeded, arlv1.StepStateSucceeded, arlv1.StepStateSucceeded},
		},
		{
			name:        "the first failing step stops the task; the rest are Skipped",
			out:         attemptOutcome{steps: []stepOutcome{okStep("a", "x", 0), failedStep("b", "boom\n", 3, arlv1.TaskReasonStepFailed)}},
			wantVerdict: verdictFailed, wantState: arlv1.TaskStateFailed, wantReason: arlv1.TaskReasonStepFailed,
			wantExit: code(3), wantStdout: "x",
			wantSteps: []arlv1.StepState{arlv1.StepStateSucceeded, arlv1.StepStateFailed, arlv1.StepStateSkipped},
		},
		{
			name:        "a failure with retries left asks for a retry and stays Running",
			retries:     1,
			out:         attemptOutcome{steps: []stepOutcome{failedStep("a", "", 127, arlv1.TaskReasonStepFailed)}},
			wantVerdict: verdictRetry, wantState: arlv1.TaskStateRunning, wantReason: arlv1.TaskReasonRetrying,
			wantExit:  code(127),
			wantSteps: []arlv1.StepState{arlv1.StepStateFailed, arlv1.StepStateSkipped, arlv1.StepStateSkipped},
		},
		{
			name:        "a step whose result the sidecar no longer keeps fails without a retry",
			retries:     2,
			out:         attemptOutcome{steps: []stepOutcome{failedStep("a", "", -1, arlv1.TaskReasonStepResultLost)}},
			wantVerdict: verdictFailed, wantState: arlv1.TaskStateFailed, wantReason: arlv1.TaskReasonStepResultLost,
			wantExit:  code(-1),
			wantSteps: []arlv1.StepState{arlv1.StepStateFailed, arlv1.StepStateSkipped, arlv1.StepStateSkipped},
		},
		{
			name:        "a timeout fails with reason Timeout",
			out:         attemptOutcome{steps: []stepOutcome{failedStep("a", "", -1, arlv1.TaskReasonTimeout)}},
			wantVerdict: verdictFailed, wantState: arlv1.TaskStateFailed, wantReason: arlv1.TaskReasonTimeout,
			wantExit:  code(-1),
			wantSteps: []arlv1.StepState{arlv1.StepStateFailed, arlv1.StepStateSkipped, arlv1.StepStateSkipped},
		},
		{
			name:        "paused between steps stays Running with the steps done",
			out:         attemptOutcome{steps: []stepOutcome{okStep("a", "1", 0)}, paused: true},
			wantVerdict: verdictPaused, wantState: arlv1.TaskStateRunning, wantReason: arlv1.TaskReasonPaused,
			wantExit: code(0), wantStdout: "1",
			wantSteps: []arlv1.StepState{arlv1.StepStateSucceeded},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := testTask(tt.retries, "a", "b", "c")
			p := plan{attempt: 1, maxAttempts: maxAttempts(task), podName: "pod", taskStart: time.Now().Add(-time.Second)}
			task.Status = claimedStatus(task, p, time.Now())
			st, v := finishedStatus(task, p, tt.out, 1024, time.Now())
			if v != tt.wantVerdict || st.State != tt.wantState || st.Reason != tt.wantReason {
				t.Fatalf("verdict %d state %s reason %s, want %d %s %s (message %q)", v, st.State, st.Reason, tt.wantVerdict, tt.wantState, tt.wantReason, st.Message)
			}
			if (st.ExitCode == nil) != (tt.wantExit == nil) || (st.ExitCode != nil && *st.ExitCode != *tt.wantExit) {
				t.Fatalf("exitCode = %v, want %v", st.ExitCode, tt.wantExit)
			}
			if st.Stdout != tt.wantStdout {
				t.Fatalf("stdout = %q, want %q", st.Stdout, tt.wantStdout)
			}
			var states []arlv1.StepState
			for _, s := range st.Steps {
				states = append(states, s.State)
			}
			if strings.Join(stepStrings(states), ",") != strings.Join(stepStrings(tt.wantSteps), ",") {
				t.Fatalf("step states = %v, want %v", states, tt.wantSteps)
			}
			checkJobConditions(t, st)
			finished := st.State == arlv1.TaskStateSucceeded || st.State == arlv1.TaskStateFailed
			if finished && (st.CompletionTime == nil || st.Duration == "") {
				t.Fatalf("a finished task needs completionTime and duration: %+v", st)
			}
		})
	}
}

func stepStrings(s []arlv1.StepState) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = string(s[i])
	}
	return out
}

func TestFinishedStatusAfterResumeAppendsOutput(t *testing.T) {
	task := withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded)
	task.Status.Stdout = "a\n"
	p := plan{attempt: 1, maxAttempts: 1, resumeFrom: 1}
	task.Status = claimedStatus(task, p, time.Now())
	st, v := finishedStatus(task, p, attemptOutcome{steps: []stepOutcome{okStep("b", "b\n", 0)}}, 1024, time.Now())
	if v != verdictSucceeded || st.Stdout != "a\nb\n" || len(st.Steps) != 2 {
		t.Fatalf("verdict %d stdout %q steps %+v", v, st.Stdout, st.Steps)
	}
}

func TestInterruptedStatusNeverLeavesAStepRunning(t *testing.T) {
	task := withSteps(testTask(3, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded, arlv1.StepStateRunning)
	st := interruptedStatus(task, "gone", time.Now())
	if st.State != arlv1.TaskStateFailed || st.Reason != arlv1.TaskReasonOperatorRestarted || st.CompletionTime == nil {
		t.Fatalf("interrupted = %+v", st)
	}
	for _, s := range st.Steps {
		if s.State == arlv1.StepStateRunning {
			t.Fatalf("step %s still Running", s.Name)
		}
	}
}

func TestAttemptBudget(t *testing.T) {
	task := withSteps(testTask(0, "a", "b"), arlv1.TaskStateRunning, 1, arlv1.StepStateSucceeded)
	task.Status.Steps[0].Duration = "4s"
	task.Spec.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	if got := attemptBudget(task, plan{resumeFrom: 1}, time.Minute); got != 6*time.Second {
		t.Fatalf("resumed budget = %v, want 6s", got)
	}
	if got := attemptBudget(task, plan{}, time.Minute); got != 10*time.Second {
		t.Fatalf("new attempt budget = %v, want 10s", got)
	}
	task.Spec.Timeout = nil
	if got := attemptBudget(task, plan{}, 30*time.Second); got != 30*time.Second {
		t.Fatalf("default budget = %v, want 30s", got)
	}
}

func TestTimeoutSeconds(t *testing.T) {
	for _, tt := range []struct {
		left time.Duration
		want int32
	}{{0, 1}, {-time.Second, 1}, {300 * time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {30 * time.Second, 30}} {
		if got := timeoutSeconds(tt.left); got != tt.want {
			t.Errorf("timeoutSeconds(%v) = %d, want %d", tt.left, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{1234567 * time.Nanosecond, "1ms"}, {1500 * time.Millisecond, "1.5s"}, {800 * time.Microsecond, "800µs"}} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// checkJobConditions checks the Complete and Failed conditions against the
// state, as a Job's: Complete True only on success, Failed True only on
// failure, both carrying the status's reason.
func checkJobConditions(t *testing.T, st arlv1.TaskStatus) {
	t.Helper()
	for kind, want := range map[string]bool{
		arlv1.TaskConditionComplete: st.State == arlv1.TaskStateSucceeded,
		arlv1.TaskConditionFailed:   st.State == arlv1.TaskStateFailed,
	} {
		c := meta.FindStatusCondition(st.Conditions, kind)
		if c == nil || (c.Status == metav1.ConditionTrue) != want || c.Reason != st.Reason {
			t.Fatalf("%s condition = %+v for state %s (reason %s)", kind, c, st.State, st.Reason)
		}
	}
}
