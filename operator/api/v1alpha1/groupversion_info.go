package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "arl.infra.io", Version: "v1alpha1"}

	// SchemeBuilder collects the functions that register the kinds of this
	// package with a scheme (apimachinery's builder: the API package needs
	// no controller-runtime).
	SchemeBuilder runtime.SchemeBuilder

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKinds returns the function that registers objs, and the meta/v1 types
// every group version needs, under GroupVersion.
func addKinds(objs ...runtime.Object) func(*runtime.Scheme) error {
	return func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objs...)
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	}
}
