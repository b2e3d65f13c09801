package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestRESTMapperPlurals(t *testing.T) {
	m := restMapper()
	for kind, want := range map[string]string{"Sandbox": "sandboxes", "Task": "tasks", "WarmPool": "warmpools", "Secret": "secrets", "Pod": "pods"} {
		gvks, _, err := Scheme.ObjectKinds(mustNew(t, kind))
		if err != nil {
			t.Fatal(err)
		}
		mapping, err := m.RESTMapping(gvks[0].GroupKind(), gvks[0].Version)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if mapping.Resource.Resource != want {
			t.Errorf("%s maps to %q, want %q", kind, mapping.Resource.Resource, want)
		}
	}
}

func mustNew(t *testing.T, kind string) runtime.Object {
	t.Helper()
	for gvk := range Scheme.AllKnownTypes() {
		if gvk.Kind == kind && (gvk.Group == "" || gvk.Group == "arl.infra.io") && gvk.Version != "__internal" {
			obj, err := Scheme.New(gvk)
			if err != nil {
				t.Fatal(err)
			}
			return obj
		}
	}
	t.Fatalf("kind %s not in the scheme", kind)
	return nil
}
