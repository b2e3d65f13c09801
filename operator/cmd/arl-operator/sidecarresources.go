package main

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// version is set at build time with -ldflags "-X main.version=..." (make images).
var version = "dev"

// resourcesFlag is --sidecar-resources: the requests and limits of the
// sidecar container of every pool pod, as JSON
// ({"requests":{"cpu":"50m"},"limits":{"memory":"256Mi"}}), so a Helm
// value can set them.
type resourcesFlag struct{ r *corev1.ResourceRequirements }

func (f resourcesFlag) String() string {
	if f.r == nil || (len(f.r.Requests) == 0 && len(f.r.Limits) == 0) {
		return ""
	}
	data, _ := json.Marshal(f.r)
	return string(data)
}

func (f resourcesFlag) Set(v string) error {
	var r corev1.ResourceRequirements
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return fmt.Errorf("want JSON like {\"requests\":{\"cpu\":\"50m\"},\"limits\":{\"memory\":\"256Mi\"}}: %w", err)
	}
	*f.r = r
	return nil
}

// quantityFlag is a resource.Quantity flag (--workspace-size-limit).
type quantityFlag struct{ q *resource.Quantity }

func (f quantityFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f quantityFlag) Set(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("want a quantity such as 10Gi: %w", err)
	}
	if q.Sign() < 0 {
		return fmt.Errorf("want 0 (unlimited) or more, got %s", v)
	}
	*f.q = q
	return nil
}
