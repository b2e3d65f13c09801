package poolpod

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// Paths and commands of the pod layout in docs/contracts.md.
const (
	sidecarEntrypoint  = "/usr/local/bin/arl-sidecar"
	sidecarInToolsPath = arlv1.ToolsMountPath + "/bin/arl-sidecar"
	agentSocket        = arlv1.RunMountPath + "/agent.sock"
	// runVolumeSize bounds the run volume: it holds one socket.
	runVolumeSize = "1Mi"
	// layoutVersion changes whenever what BuildPod injects changes, so idle
	// pods built by an older operator are replaced (TemplateHash).
	layoutVersion = "2"
)

// PodConfig is what the operator adds to every pool pod, beside the template.
type PodConfig struct {
	// SidecarImage is the image of the sidecar and of the arl-install init container.
	SidecarImage string
	// SidecarResources are the injected containers' requests and limits
	// (--sidecar-resources), unless the pool's spec.injected.resources
	// replaces them.
	SidecarResources corev1.ResourceRequirements
	// WorkspaceSizeLimit is the sizeLimit of a workspace emptyDir that has
	// none (--workspace-size-limit); zero leaves it unlimited.
	WorkspaceSizeLimit resource.Quantity
}

// TemplateHash identifies the pod a pool builds: its template, its auth mode
// and the injected configuration. An idle pod whose hash differs is replaced.
func TemplateHash(pool *arlv1.WarmPool, cfg PodConfig) string {
	h := fnv.New64a()
	// Encoding a PodTemplateSpec cannot fail; the error is ignored on purpose.
	tmpl, _ := json.Marshal(pool.Spec.Template)
	_, _ = h.Write(tmpl)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(string(pool.Spec.SidecarAuth) + "\x00" + cfg.SidecarImage))
	if res := cfg.SidecarResources; len(res.Requests)+len(res.Limits) > 0 {
		r, _ := json.Marshal(res)
		_, _ = h.Write(r)
	}
	injected, _ := json.Marshal(pool.Spec.Injected)
	_, _ = h.Write([]byte("\x00" + layoutVersion + "\x00" + cfg.WorkspaceSizeLimit.String() + "\x00"))
	_, _ = h.Write(injected)
	return strconv.FormatUint(h.Sum64(), 36)
}

// BuildPod returns the pod named name for pool: the template plus the
// arl-tools volume, the workspace volume when absent, the arl-install init
// container, the wrapped executor command, the sidecar container, the labels
// and the controller reference to the pool. The pod mounts no
// service-account token unless the template asks for one: sandboxed code
// gets no cluster credentials by default, and every pod start saves the
// API server a token signing and a ConfigMap read.
func BuildPod(pool *arlv1.WarmPool, name, hash string, cfg PodConfig) (*corev1.Pod, error) {
	tmpl := pool.Spec.Template.DeepCopy()
	spec := tmpl.Spec

	executor := -1
	for i := range spec.Containers {
		if spec.Containers[i].Name == arlv1.ExecutorContainerName {
			executor = i
			break
		}
	}
	if executor < 0 {
		return nil, fmt.Errorf("template of pool %s has no container named %q", pool.Name, arlv1.ExecutorContainerName)
	}

	if spec.AutomountServiceAccountToken == nil {
		spec.AutomountServiceAccountToken = ptr.To(false)
	}
	workspaceMountPath := ensureWorkspace(&spec, executor, cfg.WorkspaceSizeLimit)
	spec.Volumes = append(spec.Volumes,
		corev1.Volume{Name: arlv1.ToolsVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: arlv1.RunVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			SizeLimit: ptr.To(resource.MustParse(runVolumeSize)),
		}}},
	)
	toolsMount := corev1.VolumeMount{Name: arlv1.ToolsVolumeName, MountPath: arlv1.ToolsMountPath}
	runMount := corev1.VolumeMount{Name: arlv1.RunVolumeName, MountPath: arlv1.RunMountPath}
	security := injectedSecurityContext(pool, &spec, executor)
	resources := cfg.SidecarResources
	if inj := pool.Spec.Injected; inj != nil && inj.Resources != nil {
		resources = *inj.Resources.DeepCopy()
	}

	spec.InitContainers = append([]corev1.Container{{
		Name:            arlv1.InstallInitContainerName,
		Image:           cfg.SidecarImage,
		Command:         []string{sidecarEntrypoint, "install", sidecarInToolsPath},
		VolumeMounts:    []corev1.VolumeMount{toolsMount},
		Resources:       *resources.DeepCopy(),
		SecurityContext: security.DeepCopy(),
	}}, spec.InitContainers...)

	// The executor runs the agent from /arl, which it may not change; the
	// agent's socket lives in the run volume.
	exec := &spec.Containers[executor]
	wrapped := []string{sidecarInToolsPath, "agent", "--socket=" + agentSocket, "--"}
	wrapped = append(wrapped, exec.Command...)
	wrapped = append(wrapped, exec.Args...)
	exec.Command, exec.Args = wrapped, nil
	readOnlyTools := toolsMount
	readOnlyTools.ReadOnly = true
	exec.VolumeMounts = append(exec.VolumeMounts, readOnlyTools, runMount)

	sidecar := sidecarContainer(pool, name, workspaceMountPath, runMount, cfg)
	sidecar.Resources = resources
	sidecar.SecurityContext = security
	spec.Containers = append(spec.Containers, sidecar)

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   pool.Namespace,
			Labels:      mergeMaps(tmpl.Labels, map[string]string{arlv1.LabelPool: pool.Name, arlv1.LabelState: arlv1.PodStateIdle}),
			Annotations: mergeMaps(tmpl.Annotations, map[string]string{arlv1.AnnotationTemplateHash: hash}),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(pool,
				arlv1.GroupVersion.WithKind("WarmPool"))},
		},
		Spec: spec,
	}
	return pod, nil
}

// ensureWorkspace makes sure the pod has a "workspace" volume mounted in the
// executor, gives a workspace emptyDir without a sizeLimit sizeLimit (when
// not zero), and returns the executor's mount path of it.
func ensureWorkspace(spec *corev1.PodSpec, executor int, sizeLimit resource.Quantity) string {
	found := -1
	for i, v := range spec.Volumes {
		if v.Name == arlv1.WorkspaceVolumeName {
			found = i
			break
		}
	}
	if found < 0 {
		spec.Volumes = append(spec.Volumes, corev1.Volume{
			Name:         arlv1.WorkspaceVolumeName,
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
		})
		found = len(spec.Volumes) - 1
	}
	if ed := spec.Volumes[found].EmptyDir; ed != nil && ed.SizeLimit == nil && !sizeLimit.IsZero() {
		ed.SizeLimit = ptr.To(sizeLimit.DeepCopy())
	}
	exec := &spec.Containers[executor]
	for _, m := range exec.VolumeMounts {
		if m.Name == arlv1.WorkspaceVolumeName {
			return m.MountPath
		}
	}
	exec.VolumeMounts = append(exec.VolumeMounts, corev1.VolumeMount{
		Name: arlv1.WorkspaceVolumeName, MountPath: arlv1.DefaultWorkDir,
	})
	return arlv1.DefaultWorkDir
}

func sidecarContainer(pool *arlv1.WarmPool, podName, workspace string, run corev1.VolumeMount, cfg PodConfig) corev1.Container {
	c := corev1.Container{
		Name:  arlv1.SidecarContainerName,
		Image: cfg.SidecarImage,
		Command: []string{
			sidecarEntrypoint, "serve",
			"--http-addr=:" + strconv.Itoa(arlv1.SidecarHTTPPort),
			"--grpc-addr=:" + strconv.Itoa(arlv1.SidecarGRPCPort),
			"--workspace=" + workspace,
			"--agent-socket=" + agentSocket,
		},
		Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: arlv1.SidecarHTTPPort, Protocol: corev1.ProtocolTCP},
			{Name: "grpc", ContainerPort: arlv1.SidecarGRPCPort, Protocol: corev1.ProtocolTCP},
		},
		VolumeMounts: []corev1.VolumeMount{
			run,
			{Name: arlv1.WorkspaceVolumeName, MountPath: workspace},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/health", Port: intstr.FromInt32(arlv1.SidecarHTTPPort),
			}},
			PeriodSeconds:    1,
			FailureThreshold: 3,
			SuccessThreshold: 1,
			TimeoutSeconds:   1,
		},
	}
	if pool.TokenAuth() {
		c.Env = append(c.Env, corev1.EnvVar{
			Name: arlv1.SidecarTokenEnv,
			ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: arlv1.SidecarTokenSecretName(podName)},
				Key:                  arlv1.SidecarTokenSecretKey,
				Optional:             ptr.To(false),
			}},
		})
	}
	return c
}

func mergeMaps(base, overrides map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(overrides))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}
