package mcptools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/cli/internal/sandbox"
	"github.com/arl-infra/arl/cli/internal/tasks"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
)

// Ref names a sandbox.
type Ref struct {
	Sandbox   string `json:"sandbox" jsonschema:"name of the sandbox, as returned by create_sandbox or list_sandboxes"`
	Namespace string `json:"namespace,omitempty" jsonschema:"Kubernetes namespace of the sandbox; omit to use the server's default"`
}

// CreateSandboxIn are create_sandbox's arguments.
type CreateSandboxIn struct {
	Pool       string `json:"pool,omitempty" jsonschema:"WarmPool to take a pre-warmed pod from (e.g. python-pool); omit to use the server's default pool"`
	TTLSeconds int32  `json:"ttl,omitempty" jsonschema:"seconds of inactivity after which the sandbox is deleted automatically (default 1800)"`
	Name       string `json:"name,omitempty" jsonschema:"name for the sandbox (lowercase letters, digits, -); omit to get a generated one"`
	Namespace  string `json:"namespace,omitempty" jsonschema:"Kubernetes namespace; omit to use the server's default"`
}

// SandboxInfo describes a sandbox.
type SandboxInfo struct {
	Name      string `json:"name" jsonschema:"sandbox name to pass to the other tools"`
	Namespace string `json:"namespace"`
	Pool      string `json:"pool"`
	Phase     string `json:"phase" jsonschema:"Pending, Bound, Ready or Failed; only Ready sandboxes run commands"`
	Workdir   string `json:"workdir,omitempty" jsonschema:"working directory of commands (/workspace)"`
	Owned     bool   `json:"created_by_this_server" jsonschema:"true when this MCP server created it (it is deleted when the server stops)"`
}

// ListSandboxesIn are list_sandboxes' arguments.
type ListSandboxesIn struct {
	Namespace string `json:"namespace,omitempty" jsonschema:"Kubernetes namespace; omit to use the server's default"`
}

// ListSandboxesOut is list_sandboxes' result.
type ListSandboxesOut struct {
	Sandboxes []SandboxInfo `json:"sandboxes"`
}

// DeleteOut is delete_sandbox's result.
type DeleteOut struct {
	Deleted string `json:"deleted"`
}

// RunCommandIn are run_command's arguments.
type RunCommandIn struct {
	Ref
	Command        string            `json:"command" jsonschema:"shell command line, run with sh -c in the sandbox (e.g. 'python /workspace/hello.py' or 'pip list | head')"`
	Cwd            string            `json:"cwd,omitempty" jsonschema:"working directory (default /workspace)"`
	Env            map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	TimeoutSeconds int32             `json:"timeout,omitempty" jsonschema:"kill the command after this many seconds (default: the sandbox's ceiling for foreground runs)"`
	Background     bool              `json:"background,omitempty" jsonschema:"start the command and return at once with its pid (for servers); stop it later with signal_process"`
}

// RunCommandOut is run_command's result.
type RunCommandOut struct {
	ExitCode        int32  `json:"exit_code" jsonschema:"the command's exit code (0 is success); -1 while a background command runs"`
	Stdout          string `json:"stdout"`
	Stderr          string `json:"stderr"`
	StdoutTruncated bool   `json:"stdout_truncated" jsonschema:"true when stdout was cut to the size limit; redirect to a file and read_file parts of it"`
	StderrTruncated bool   `json:"stderr_truncated"`
	TimedOut        bool   `json:"timed_out,omitempty"`
	Signal          string `json:"signal,omitempty" jsonschema:"the signal that ended the command, if any"`
	Pid             int32  `json:"pid,omitempty" jsonschema:"process id (for signal_process)"`
	Running         bool   `json:"running,omitempty" jsonschema:"true for a background command still running"`
}

// WriteFileIn are write_file's arguments.
type WriteFileIn struct {
	Ref
	Path    string `json:"path" jsonschema:"file path under /workspace (absolute or relative to /workspace); parent directories are created"`
	Content string `json:"content" jsonschema:"the full text content of the file (UTF-8)"`
	Mode    uint32 `json:"mode,omitempty" jsonschema:"permission bits as a decimal number, e.g. 493 for 0755; default 0644"`
}

// WriteFileOut is write_file's result.
type WriteFileOut struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// ReadFileIn are read_file's arguments.
type ReadFileIn struct {
	Ref
	Path     string `json:"path" jsonschema:"file path under /workspace (absolute or relative to /workspace)"`
	MaxBytes int64  `json:"max_bytes,omitempty" jsonschema:"read at most this many bytes (default 65536)"`
}

// ReadFileOut is read_file's result.
type ReadFileOut struct {
	Path      string `json:"path"`
	Content   string `json:"content" jsonschema:"the file's text (binary bytes are replaced)"`
	Size      int64  `json:"size" jsonschema:"the file's full size in bytes"`
	Truncated bool   `json:"truncated" jsonschema:"true when only the first max_bytes were returned"`
}

// Step is one step of run_steps.
type Step struct {
	Name    string            `json:"name" jsonschema:"unique step name"`
	Type    string            `json:"type" jsonschema:"FilePatch (write content to path) or Command (run command)"`
	Path    string            `json:"path,omitempty" jsonschema:"FilePatch: file to write, under /workspace"`
	Content string            `json:"content,omitempty" jsonschema:"FilePatch: the file's content"`
	Command []string          `json:"command,omitempty" jsonschema:"Command: argv, e.g. [\"python\", \"/workspace/hello.py\"] (no shell; use [\"sh\", \"-c\", \"...\"] for one)"`
	WorkDir string            `json:"work_dir,omitempty" jsonschema:"Command: working directory (default /workspace)"`
	Env     map[string]string `json:"env,omitempty" jsonschema:"Command: extra environment variables"`
}

// RunStepsIn are run_steps' arguments.
type RunStepsIn struct {
	Ref
	Steps          []Step `json:"steps" jsonschema:"ordered steps; a failing step stops the rest"`
	TimeoutSeconds int32  `json:"timeout,omitempty" jsonschema:"fail the task after this many seconds (default 300)"`
}

// StepResult is one step's outcome.
type StepResult struct {
	Name     string `json:"name"`
	State    string `json:"state" jsonschema:"Succeeded, Failed, Skipped, ..."`
	ExitCode *int32 `json:"exit_code,omitempty"`
	Message  string `json:"message,omitempty"`
}

// RunStepsOut is run_steps' result.
type RunStepsOut struct {
	Task     string       `json:"task" jsonschema:"the Task object's name (kubectl get task NAME)"`
	State    string       `json:"state" jsonschema:"Succeeded or Failed"`
	ExitCode *int32       `json:"exit_code,omitempty"`
	Stdout   string       `json:"stdout" jsonschema:"stdout of the Command steps (capped by the operator, with a truncation marker)"`
	Stderr   string       `json:"stderr"`
	Reason   string       `json:"reason,omitempty"`
	Message  string       `json:"message,omitempty"`
	Steps    []StepResult `json:"steps"`
}

// SignalIn are signal_process' arguments.
type SignalIn struct {
	Ref
	Pid    int32  `json:"pid" jsonschema:"process id from run_command with background=true"`
	Signal string `json:"signal,omitempty" jsonschema:"SIGTERM (default), SIGINT, SIGKILL, SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2"`
}

// SignalOut is signal_process' result.
type SignalOut struct {
	Sent    bool   `json:"sent"`
	Message string `json:"message,omitempty"`
}

func (s *Server) addTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "create_sandbox", Description: "Create a sandbox (an isolated Linux workspace with /workspace) from a pre-warmed pool and wait until it is Ready (usually well under a second). Returns its name for the other tools. It is deleted when idle for ttl seconds, by delete_sandbox, or when this server stops."}, s.createSandbox)
	mcp.AddTool(srv, &mcp.Tool{Name: "list_sandboxes", Description: "List the sandboxes these tools may use (the ones this server created and the ones labelled for MCP), with their phase."}, s.listSandboxes)
	mcp.AddTool(srv, &mcp.Tool{Name: "delete_sandbox", Description: "Delete a sandbox with its files and processes. Call it when the work is done."}, s.deleteSandbox)
	mcp.AddTool(srv, &mcp.Tool{Name: "run_command", Description: "Run a shell command in a sandbox and return its exit code, stdout and stderr (each capped; the *_truncated fields say when). With background=true it returns at once with a pid (for servers); stop it with signal_process."}, s.runCommand)
	mcp.AddTool(srv, &mcp.Tool{Name: "write_file", Description: "Write a text file in a sandbox's /workspace (creating parent directories, replacing an existing file)."}, s.writeFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "read_file", Description: "Read a text file from a sandbox's /workspace (up to max_bytes)."}, s.readFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "list_files", Description: "List a directory of a sandbox's /workspace (name, type, size, mode, modification time), optionally a few levels deep."}, s.listFiles)
	mcp.AddTool(srv, &mcp.Tool{Name: "run_steps", Description: "Run ordered steps (FilePatch: write a file; Command: run an argv) as a Kubernetes Task in a sandbox, wait for it, and return its state, exit code, stdout and stderr. Use it when the run should be recorded in the cluster; run_command is faster for one command."}, s.runSteps)
	mcp.AddTool(srv, &mcp.Tool{Name: "signal_process", Description: "Send a signal (default SIGTERM) to a process of a sandbox, e.g. a background command started by run_command; its process group gets it too."}, s.signalProcess)
}

func (s *Server) createSandbox(ctx context.Context, _ *mcp.CallToolRequest, in CreateSandboxIn) (*mcp.CallToolResult, SandboxInfo, error) {
	ns, err := s.namespace(in.Namespace)
	if err != nil {
		return nil, SandboxInfo{}, err
	}
	pool := in.Pool
	if pool == "" {
		pool = s.cfg.DefaultPool
	}
	if pool == "" {
		return nil, SandboxInfo{}, errors.New("pool is required: name a WarmPool (ask the user which one, e.g. python-pool)")
	}
	if len(s.cfg.Pools) > 0 && !slices.Contains(s.cfg.Pools, pool) {
		return nil, SandboxInfo{}, fmt.Errorf("pool %q is not allowed; allowed pools: %v", pool, s.cfg.Pools)
	}
	ttl := in.TTLSeconds
	if ttl <= 0 {
		ttl = s.cfg.DefaultTTLSeconds
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return nil, SandboxInfo{}, err
	}
	pl := &arlv1.WarmPool{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: pool}, pl); err != nil {
		return nil, SandboxInfo{}, fmt.Errorf("pool %q is not usable in namespace %q: %w (ask the user for an existing WarmPool)", pool, ns, err)
	}
	sb := &arlv1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: in.Name,
			Labels: map[string]string{LabelExposed: "true", LabelSession: s.session}},
		Spec: arlv1.SandboxSpec{PoolRef: pool, KeepAlive: true, IdleTimeoutSeconds: &ttl},
	}
	if in.Name == "" {
		sb.GenerateName = "mcp-"
	}
	if err := cl.Create(ctx, sb); err != nil {
		return nil, SandboxInfo{}, fmt.Errorf("creating the sandbox: %w", err)
	}
	key := client.ObjectKeyFromObject(sb)
	s.mu.Lock()
	s.created[key] = true
	s.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ready, err := sandbox.WaitReady(wctx, cl, ns, sb.Name)
	if err != nil {
		return nil, SandboxInfo{}, fmt.Errorf("sandbox %q was created but did not become Ready: %w", sb.Name, err)
	}
	return nil, s.info(ready), nil
}

func (s *Server) info(sb *arlv1.Sandbox) SandboxInfo {
	s.mu.Lock()
	owned := s.created[client.ObjectKeyFromObject(sb)]
	s.mu.Unlock()
	return SandboxInfo{Name: sb.Name, Namespace: sb.Namespace, Pool: sb.Spec.PoolRef, Phase: string(sb.Status.Phase),
		Workdir: sb.Status.WorkDir, Owned: owned}
}

func (s *Server) listSandboxes(ctx context.Context, _ *mcp.CallToolRequest, in ListSandboxesIn) (*mcp.CallToolResult, ListSandboxesOut, error) {
	ns, err := s.namespace(in.Namespace)
	if err != nil {
		return nil, ListSandboxesOut{}, err
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return nil, ListSandboxesOut{}, err
	}
	list := &arlv1.SandboxList{}
	if err := cl.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, ListSandboxesOut{}, fmt.Errorf("listing sandboxes: %w", err)
	}
	out := ListSandboxesOut{Sandboxes: []SandboxInfo{}}
	for i := range list.Items {
		if s.allowed(&list.Items[i]) {
			out.Sandboxes = append(out.Sandboxes, s.info(&list.Items[i]))
		}
	}
	return nil, out, nil
}

func (s *Server) deleteSandbox(ctx context.Context, _ *mcp.CallToolRequest, in Ref) (*mcp.CallToolResult, DeleteOut, error) {
	ns, err := s.namespace(in.Namespace)
	if err != nil {
		return nil, DeleteOut{}, err
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return nil, DeleteOut{}, err
	}
	sb, err := sandbox.Get(ctx, cl, ns, in.Sandbox)
	if err != nil {
		return nil, DeleteOut{}, fmt.Errorf("%w; nothing to delete", err)
	}
	if !s.allowed(sb) {
		return nil, DeleteOut{}, fmt.Errorf("sandbox %q was not created by this MCP server and is not labelled %s=true; it may not be deleted here", in.Sandbox, LabelExposed)
	}
	if err := sandbox.Delete(ctx, cl, ns, in.Sandbox, false); err != nil {
		return nil, DeleteOut{}, err
	}
	s.forget(client.ObjectKeyFromObject(sb))
	return nil, DeleteOut{Deleted: in.Sandbox}, nil
}

func (s *Server) runCommand(ctx context.Context, _ *mcp.CallToolRequest, in RunCommandIn) (*mcp.CallToolResult, RunCommandOut, error) {
	if in.Command == "" {
		return nil, RunCommandOut{}, errors.New("command is required, e.g. \"python /workspace/hello.py\"")
	}
	if in.Cwd != "" {
		cwd, err := workspacePath(in.Cwd)
		if err != nil {
			return nil, RunCommandOut{}, err
		}
		in.Cwd = cwd
	}
	c, err := s.conn(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, RunCommandOut{}, err
	}
	resp, err := c.Client.Execute(ctx, connect.NewRequest(&sidecarv1.ExecuteRequest{
		Command: []string{"sh", "-c", in.Command}, WorkingDir: in.Cwd, Env: in.Env,
		Background: in.Background, TimeoutSeconds: in.TimeoutSeconds,
	}))
	if err != nil {
		return nil, RunCommandOut{}, sandbox.Describe(in.Sandbox, err)
	}
	m := resp.Msg
	out := RunCommandOut{ExitCode: m.ExitCode, TimedOut: m.TimedOut, Signal: m.Signal, Pid: m.Pid, Running: !m.Done,
		StdoutTruncated: m.StdoutTruncated, StderrTruncated: m.StderrTruncated}
	out.Stdout, out.StdoutTruncated = s.capText(m.Stdout, out.StdoutTruncated)
	out.Stderr, out.StderrTruncated = s.capText(m.Stderr, out.StderrTruncated)
	if !m.Done {
		out.ExitCode = -1
	}
	return nil, out, nil
}

// capText keeps the first OutputLimit bytes (on a rune boundary).
func (s *Server) capText(text string, truncated bool) (string, bool) {
	if len(text) <= s.cfg.OutputLimit {
		return text, truncated
	}
	cut := s.cfg.OutputLimit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + fmt.Sprintf("\n[... truncated: %d of %d bytes shown]", cut, len(text)), true
}

func (s *Server) writeFile(ctx context.Context, _ *mcp.CallToolRequest, in WriteFileIn) (*mcp.CallToolResult, WriteFileOut, error) {
	p, err := workspacePath(in.Path)
	if err != nil {
		return nil, WriteFileOut{}, err
	}
	c, err := s.conn(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, WriteFileOut{}, err
	}
	resp, err := c.Client.WriteFiles(ctx, connect.NewRequest(&sidecarv1.WriteFilesRequest{
		Files: []*sidecarv1.File{{Path: p, Content: []byte(in.Content), Mode: in.Mode}}}))
	if err != nil {
		return nil, WriteFileOut{}, sandbox.Describe(in.Sandbox, err)
	}
	size := int64(len(in.Content))
	if len(resp.Msg.Files) == 1 {
		size = resp.Msg.Files[0].Size
	}
	return nil, WriteFileOut{Path: p, Bytes: size}, nil
}

func (s *Server) readFile(ctx context.Context, _ *mcp.CallToolRequest, in ReadFileIn) (*mcp.CallToolResult, ReadFileOut, error) {
	p, err := workspacePath(in.Path)
	if err != nil {
		return nil, ReadFileOut{}, err
	}
	limit := in.MaxBytes
	if limit <= 0 || limit > int64(s.cfg.OutputLimit) {
		limit = int64(s.cfg.OutputLimit)
	}
	c, err := s.conn(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, ReadFileOut{}, err
	}
	resp, err := c.Client.ReadFile(ctx, connect.NewRequest(&sidecarv1.ReadFileRequest{Path: p, MaxBytes: limit}))
	if err != nil {
		if connect.CodeOf(err) == connect.CodeNotFound {
			return nil, ReadFileOut{}, fmt.Errorf("%s does not exist in sandbox %q (write it with write_file, or look with run_command \"ls -la\")", p, in.Sandbox)
		}
		return nil, ReadFileOut{}, sandbox.Describe(in.Sandbox, err)
	}
	return nil, ReadFileOut{Path: p, Content: string(resp.Msg.Content), Size: resp.Msg.Size, Truncated: resp.Msg.Truncated}, nil
}

func (s *Server) runSteps(ctx context.Context, _ *mcp.CallToolRequest, in RunStepsIn) (*mcp.CallToolResult, RunStepsOut, error) {
	if len(in.Steps) == 0 {
		return nil, RunStepsOut{}, errors.New("steps is empty: give at least one FilePatch or Command step")
	}
	f := &tasks.File{}
	for i, st := range in.Steps {
		step := arlv1.TaskStep{Name: st.Name, Type: arlv1.StepType(st.Type), Content: st.Content, Command: st.Command, WorkDir: st.WorkDir, Env: st.Env}
		switch step.Type {
		case arlv1.StepTypeFilePatch:
			var err error
			if step.Path, err = workspacePath(st.Path); err != nil {
				return nil, RunStepsOut{}, fmt.Errorf("step %d (%s): %w", i, st.Name, err)
			}
		case arlv1.StepTypeCommand:
			if len(st.Command) == 0 {
				return nil, RunStepsOut{}, fmt.Errorf("step %d (%s): a Command step needs command, e.g. [\"python\", \"/workspace/hello.py\"]", i, st.Name)
			}
		default:
			return nil, RunStepsOut{}, fmt.Errorf("step %d (%s): type %q: use FilePatch or Command", i, st.Name, st.Type)
		}
		f.Steps = append(f.Steps, step)
	}
	t, err := s.target(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, RunStepsOut{}, err
	}
	timeout := in.TimeoutSeconds
	if timeout <= 0 {
		timeout = 300
	}
	f.Timeout = (time.Duration(timeout) * time.Second).String()
	task, err := tasks.Build(t.Sandbox.Namespace, t.Sandbox.Name, f)
	if err != nil {
		return nil, RunStepsOut{}, err
	}
	cl, err := s.cfg.Kube.Client()
	if err != nil {
		return nil, RunStepsOut{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second+time.Minute)
	defer cancel()
	done, err := tasks.Run(wctx, cl, task)
	if err != nil {
		return nil, RunStepsOut{}, err
	}
	out := RunStepsOut{Task: done.Name, State: string(done.Status.State), ExitCode: done.Status.ExitCode,
		Stdout: done.Status.Stdout, Stderr: done.Status.Stderr, Reason: done.Status.Reason, Message: done.Status.Message}
	for _, st := range done.Status.Steps {
		out.Steps = append(out.Steps, StepResult{Name: st.Name, State: string(st.State), ExitCode: st.ExitCode, Message: st.Message})
	}
	return nil, out, nil
}

func (s *Server) signalProcess(ctx context.Context, _ *mcp.CallToolRequest, in SignalIn) (*mcp.CallToolResult, SignalOut, error) {
	if in.Pid <= 0 {
		return nil, SignalOut{}, errors.New("pid is required: the pid run_command returned for a background command")
	}
	sig := in.Signal
	if sig == "" {
		sig = "SIGTERM"
	}
	c, err := s.conn(ctx, in.Namespace, in.Sandbox)
	if err != nil {
		return nil, SignalOut{}, err
	}
	resp, err := c.Client.Signal(ctx, connect.NewRequest(&sidecarv1.SignalRequest{Pid: in.Pid, Signal: sig}))
	if err != nil {
		return nil, SignalOut{}, sandbox.Describe(in.Sandbox, err)
	}
	if !resp.Msg.Success {
		return nil, SignalOut{}, fmt.Errorf("signal %s to pid %d failed: %s", sig, in.Pid, resp.Msg.Message)
	}
	return nil, SignalOut{Sent: true, Message: resp.Msg.Message}, nil
}
