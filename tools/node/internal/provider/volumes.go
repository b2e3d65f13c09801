package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// prepareVolumes materialises every pod volume as a host directory (or
// path). Missing ConfigMaps and Secrets are errors the caller retries.
func (pr *podRuntime) prepareVolumes() error {
	pr.mu.Lock()
	pod := pr.pod
	podIP := pr.podIP
	pr.mu.Unlock()
	vols := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		path, err := pr.prepareVolume(pr.ctx, pod, v, podIP)
		if err != nil {
			return fmt.Errorf("volume %q: %w", v.Name, err)
		}
		vols[v.Name] = path
	}
	pr.mu.Lock()
	pr.volumes = vols
	pr.mu.Unlock()
	return nil
}

func (pr *podRuntime) volumeDir(name string) string {
	return filepath.Join(pr.dir, "volumes", name)
}

func (pr *podRuntime) prepareVolume(ctx context.Context, pod *corev1.Pod, v corev1.Volume, podIP string) (string, error) {
	dir := pr.volumeDir(v.Name)
	src := clientSources{pr.p.cfg.Client}
	switch {
	case v.HostPath != nil:
		if t := v.HostPath.Type; t != nil && *t == corev1.HostPathDirectoryOrCreate {
			if err := os.MkdirAll(v.HostPath.Path, 0o755); err != nil {
				return "", fmt.Errorf("create hostPath: %w", err)
			}
		}
		if _, err := os.Stat(v.HostPath.Path); err != nil {
			return "", fmt.Errorf("hostPath: %w", err)
		}
		return v.HostPath.Path, nil
	case v.EmptyDir != nil:
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", fmt.Errorf("create emptyDir: %w", err)
		}
		return dir, os.Chmod(dir, 0o777)
	case v.ConfigMap != nil:
		files, err := configMapFiles(ctx, src, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		if err != nil {
			return "", err
		}
		return dir, writeFiles(dir, files, v.ConfigMap.DefaultMode)
	case v.Secret != nil:
		files, err := secretFiles(ctx, src, pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		if err != nil {
			return "", err
		}
		return dir, writeFiles(dir, files, v.Secret.DefaultMode)
	case v.DownwardAPI != nil:
		files, err := downwardFiles(pod, v.DownwardAPI.Items, podIP, pr.p.cfg.HostIP)
		if err != nil {
			return "", err
		}
		return dir, writeFiles(dir, files, v.DownwardAPI.DefaultMode)
	case v.Projected != nil:
		files := map[string]volumeFile{}
		for _, s := range v.Projected.Sources {
			part, err := pr.projectedSource(ctx, src, pod, s, podIP)
			if err != nil {
				return "", err
			}
			for k, f := range part {
				files[k] = f
			}
		}
		return dir, writeFiles(dir, files, v.Projected.DefaultMode)
	}
	pr.warnOnce("UnsupportedVolume", fmt.Sprintf("volume %q has a type this node does not support; it is an empty directory", v.Name))
	return dir, os.MkdirAll(dir, 0o777)
}

func (pr *podRuntime) projectedSource(ctx context.Context, src envSources, pod *corev1.Pod, s corev1.VolumeProjection, podIP string) (map[string]volumeFile, error) {
	switch {
	case s.ConfigMap != nil:
		return configMapFiles(ctx, src, pod.Namespace, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional)
	case s.Secret != nil:
		return secretFiles(ctx, src, pod.Namespace, s.Secret.Name, s.Secret.Items, s.Secret.Optional)
	case s.DownwardAPI != nil:
		return downwardFiles(pod, s.DownwardAPI.Items, podIP, pr.p.cfg.HostIP)
	case s.ServiceAccountToken != nil:
		token, err := pr.serviceAccountToken(ctx, pod, s.ServiceAccountToken)
		if err != nil {
			return nil, err
		}
		return map[string]volumeFile{s.ServiceAccountToken.Path: {data: []byte(token), mode: 0o644}}, nil
	}
	return nil, nil
}

func (pr *podRuntime) serviceAccountToken(ctx context.Context, pod *corev1.Pod, p *corev1.ServiceAccountTokenProjection) (string, error) {
	if pr.p.cfg.Client == nil {
		return "", errNoClient
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(3607)
	if p.ExpirationSeconds != nil {
		exp = *p.ExpirationSeconds
	}
	var audiences []string
	if p.Audience != "" {
		audiences = []string{p.Audience}
	}
	tr, err := pr.p.cfg.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences: audiences, ExpirationSeconds: &exp,
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("request token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return tr.Status.Token, nil
}

// refreshTokens rewrites projected volumes holding service-account tokens
// well before the tokens expire (a kubelet refreshes at 80% of their life).
func (pr *podRuntime) refreshTokens() {
	pod := pr.currentPod()
	period := time.Duration(0)
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				exp := int64(3607)
				if s.ServiceAccountToken.ExpirationSeconds != nil {
					exp = *s.ServiceAccountToken.ExpirationSeconds
				}
				d := time.Duration(exp) * time.Second * 8 / 10
				if period == 0 || d < period {
					period = d
				}
			}
		}
	}
	if period == 0 {
		return
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		select {
		case <-pr.ctx.Done():
			return
		case <-ticker.C:
		}
		for _, v := range pod.Spec.Volumes {
			if v.Projected != nil {
				pr.mu.Lock()
				podIP := pr.podIP
				pr.mu.Unlock()
				if _, err := pr.prepareVolume(pr.ctx, pod, v, podIP); err != nil {
					pr.p.cfg.Log.Warn("refreshing projected volume failed", "pod", pr.key, "volume", v.Name, "err", err)
				}
			}
		}
	}
}

type volumeFile struct {
	data []byte
	mode os.FileMode
}

func configMapFiles(ctx context.Context, src envSources, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string]volumeFile, error) {
	cm, err := src.ConfigMap(ctx, ns, name)
	if err != nil {
		if isOptional(optional) {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %q: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, optional, "configmap "+name)
}

func secretFiles(ctx context.Context, src envSources, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string]volumeFile, error) {
	s, err := src.Secret(ctx, ns, name)
	if err != nil {
		if isOptional(optional) {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return keyFiles(s.Data, items, optional, "secret "+name)
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, optional *bool, what string) (map[string]volumeFile, error) {
	files := map[string]volumeFile{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = volumeFile{data: v}
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if isOptional(optional) {
				continue
			}
			return nil, fmt.Errorf("%s has no key %q", what, it.Key)
		}
		f := volumeFile{data: v}
		if it.Mode != nil {
			f.mode = os.FileMode(*it.Mode)
		}
		files[it.Path] = f
	}
	return files, nil
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, podIP, hostIP string) (map[string]volumeFile, error) {
	files := map[string]volumeFile{}
	for _, it := range items {
		if it.FieldRef == nil {
			continue // resourceFieldRef: not tracked on this node
		}
		v, err := podField(pod, it.FieldRef.FieldPath, podIP, hostIP)
		if err != nil {
			return nil, err
		}
		f := volumeFile{data: []byte(v)}
		if it.Mode != nil {
			f.mode = os.FileMode(*it.Mode)
		}
		files[it.Path] = f
	}
	return files, nil
}

// writeFiles writes each file under dir atomically (write + rename).
func writeFiles(dir string, files map[string]volumeFile, defaultMode *int32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create volume dir: %w", err)
	}
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	for rel, f := range files {
		rel = filepath.Clean("/" + rel)
		if strings.Contains(rel, "..") {
			return fmt.Errorf("volume file path %q escapes the volume", rel)
		}
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create dir for %s: %w", rel, err)
		}
		m := mode
		if f.mode != 0 {
			m = f.mode
		}
		tmp := path + ".arl-tmp"
		if err := os.WriteFile(tmp, f.data, m); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		if err := os.Chmod(tmp, m); err != nil {
			return fmt.Errorf("chmod %s: %w", rel, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("install %s: %w", rel, err)
		}
	}
	return nil
}
