package pki

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Kubeconfig renders a kubeconfig for one user authenticating with a client
// certificate, all material embedded so the file can be copied anywhere.
func Kubeconfig(server string, ca, client *KeyPair, user string) ([]byte, error) {
	keyPEM, err := client.KeyPEM()
	if err != nil {
		return nil, err
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `apiVersion: v1
kind: Config
clusters:
- name: arl-local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: arl-local
  context:
    cluster: arl-local
    user: %s
current-context: arl-local
`, server, b64(ca.CertPEM()), user, b64(client.CertPEM()), b64(keyPEM), user)
	return []byte(sb.String()), nil
}

// WriteKubeconfig renders and writes a kubeconfig (mode 0600).
func WriteKubeconfig(path, server string, ca, client *KeyPair, user string) error {
	data, err := Kubeconfig(server, ca, client, user)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o600)
}
