package tasks

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	f, err := Parse([]byte(`
timeout: 30s
steps:
  - name: write
    type: FilePatch
    path: /workspace/hello.py
    content: print("hi")
  - name: run
    type: Command
    command: ["python", "/workspace/hello.py"]
`))
	if err != nil || len(f.Steps) != 2 || f.Steps[1].Command[0] != "python" {
		t.Fatalf("Parse = %+v, %v", f, err)
	}
	task, err := Build("ns", "sb", f)
	if err != nil || task.Spec.Timeout.Duration != 30*time.Second || task.GenerateName != "sb-" || task.Spec.SandboxRef != "sb" {
		t.Fatalf("Build = %+v, %v", task, err)
	}
	list, err := Parse([]byte("- name: a\n  type: Command\n  command: [\"true\"]\n"))
	if err != nil || len(list.Steps) != 1 {
		t.Fatalf("bare list: %+v, %v", list, err)
	}
	for _, bad := range []string{"steps: []", "stepz:\n - name: a\n", "steps:\n - name: a\n   cmd: [x]\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted bad input", bad)
		}
	}
	if _, err := Build("ns", "sb", &File{Timeout: "soon", Steps: f.Steps}); err == nil {
		t.Error("Build accepted a bad timeout")
	}
}
