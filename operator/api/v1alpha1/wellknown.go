package v1alpha1

// Labels and annotations ARL puts on the pods of a pool.
const (
	// LabelPool names the WarmPool a pod belongs to.
	LabelPool = "arl.infra.io/pool"
	// LabelState is PodStateIdle while the pod waits in its pool and
	// PodStateAllocated once a Sandbox took it.
	LabelState = "arl.infra.io/state"
	// LabelSandbox names the Sandbox an allocated pod belongs to.
	LabelSandbox = "arl.infra.io/sandbox"

	// PodStateIdle marks a pod waiting in its pool.
	PodStateIdle = "idle"
	// PodStateAllocated marks a pod bound to a Sandbox.
	PodStateAllocated = "allocated"

	// AnnotationTemplateHash records the hash of the pool template (plus what
	// ARL injects) a pod was built from; idle pods with a stale hash are
	// replaced.
	AnnotationTemplateHash = "arl.infra.io/template-hash"
	// AnnotationTokenSecretUID records, on a pool pod, the uid of the
	// sidecar token Secret the pool created for it just before the pod. The
	// Task controller sends a token only from the Secret with this uid.
	AnnotationTokenSecretUID = "arl.infra.io/token-secret-uid"
)

// The layout of a pool pod (see docs/contracts.md, "What the operator injects
// into a pool pod").
const (
	// ExecutorContainerName is the user's container; every template must have it.
	ExecutorContainerName = "executor"
	// SidecarContainerName is the container ARL adds that serves the sidecar API.
	SidecarContainerName = "sidecar"
	// InstallInitContainerName copies the sidecar binary into the tools volume.
	InstallInitContainerName = "arl-install"
	// ToolsVolumeName is the emptyDir shared by the init container, the
	// executor and the sidecar, mounted at ToolsMountPath.
	ToolsVolumeName = "arl-tools"
	// ToolsMountPath is where the tools volume is mounted (read-only in
	// the executor).
	ToolsMountPath = "/arl"
	// RunVolumeName is the emptyDir shared by the executor and the sidecar
	// for the agent's socket, mounted at RunMountPath.
	RunVolumeName = "arl-run"
	// RunMountPath is where the run volume is mounted.
	RunMountPath = "/run/arl"
	// WorkspaceVolumeName is the volume mounted at DefaultWorkDir.
	WorkspaceVolumeName = "workspace"
	// DefaultWorkDir is the working directory of a sandbox and the default
	// working directory of a Command step.
	DefaultWorkDir = "/workspace"
	// SidecarHTTPPort serves Connect, gRPC, REST and /health.
	SidecarHTTPPort = 8080
	// SidecarGRPCPort serves plain gRPC.
	SidecarGRPCPort = 50051
	// SidecarTokenEnv is the sidecar's environment variable holding its token.
	SidecarTokenEnv = "ARL_SIDECAR_TOKEN"
	// SidecarTokenSecretKey is the key of the token in the pod's Secret.
	SidecarTokenSecretKey = "token"
)

// SidecarTokenSecretName is the name of the Secret (in the pod's namespace)
// holding the sidecar token of a pool pod: the pod's own name.
func SidecarTokenSecretName(podName string) string { return podName }

// Field index keys, registered on the manager's cache and shared by the
// controllers and their tests.
const (
	// TaskSandboxRefField indexes Tasks by spec.sandboxRef.
	TaskSandboxRefField = "spec.sandboxRef"
	// SandboxPoolRefField indexes Sandboxes by spec.poolRef.
	SandboxPoolRefField = "spec.poolRef"
	// SandboxPodNameField indexes Sandboxes by status.podName.
	SandboxPodNameField = "status.podName"
	// PodPoolField indexes Pods by their LabelPool value.
	PodPoolField = "arl.infra.io/pool"
	// PodPoolStateField indexes Pods by PoolStateKey(pool, state).
	PodPoolStateField = "arl.infra.io/pool-state"
	// PodSandboxField indexes Pods by their LabelSandbox value.
	PodSandboxField = "arl.infra.io/sandbox"
)

// PoolStateKey is the PodPoolStateField value of a pod of pool in state.
func PoolStateKey(pool, state string) string { return pool + "/" + state }
