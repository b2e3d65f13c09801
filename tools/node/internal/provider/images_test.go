package provider

import (
	"reflect"
	"testing"
)

func TestImageBinariesArgv(t *testing.T) {
	m := ImageBinaries{"ghcr.io/arl-infra/arl-sidecar": "/work/main/bin/arl-sidecar"}
	cases := []struct {
		name          string
		image         string
		command, args []string
		want          []string
		wantErr       bool
	}{
		{"entrypoint maps", "ghcr.io/arl-infra/arl-sidecar:v1", []string{"/usr/local/bin/arl-sidecar", "install", "/arl/bin/arl-sidecar"}, nil,
			[]string{"/work/main/bin/arl-sidecar", "install", "/arl/bin/arl-sidecar"}, false},
		{"empty command maps", "ghcr.io/arl-infra/arl-sidecar@sha256:abc", nil, []string{"serve"},
			[]string{"/work/main/bin/arl-sidecar", "serve"}, false},
		{"other command on mapped image runs as given", "ghcr.io/arl-infra/arl-sidecar", []string{"/arl/bin/arl-sidecar", "agent"}, []string{"x"},
			[]string{"/arl/bin/arl-sidecar", "agent", "x"}, false},
		{"unmapped image runs on host", "python:3.9-slim", []string{"sleep"}, []string{"infinity"},
			[]string{"sleep", "infinity"}, false},
		{"args only", "busybox", nil, []string{"sleep", "1"}, []string{"sleep", "1"}, false},
		{"nothing to run", "python:3.9-slim", nil, nil, nil, true},
		{"same image in another registry maps", "127.0.0.1:5011/arl-sidecar@sha256:abc", nil, []string{"serve"},
			[]string{"/work/main/bin/arl-sidecar", "serve"}, false},
		{"same image under a registry path maps", "registry.example.com/team/arl-sidecar:v2", []string{"/usr/local/bin/arl-sidecar", "serve"}, nil,
			[]string{"/work/main/bin/arl-sidecar", "serve"}, false},
		{"another name does not map", "127.0.0.1:5011/arl-sidecar-dev", nil, nil, nil, true},
		{"registry port is not a tag", "localhost:5000/arl-sidecar", []string{"true"}, nil, []string{"true"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := m.Argv(c.image, c.command, c.args)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("argv = %q, want %q", got, c.want)
			}
		})
	}
	if imageName("localhost:5000/a/b:tag") != "localhost:5000/a/b" {
		t.Fatalf("imageName kept the tag: %s", imageName("localhost:5000/a/b:tag"))
	}
}
