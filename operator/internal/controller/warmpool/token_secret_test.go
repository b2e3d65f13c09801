package warmpool

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func TestBuildTokenSecret(t *testing.T) {
	pool := manualPool()
	a, err := BuildTokenSecret(pool, "python-pool-abcde")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BuildTokenSecret(pool, "python-pool-fghij")
	tok := string(a.Data["token"])
	if a.Name != "python-pool-abcde" || len(tok) != 64 || tok == string(b.Data["token"]) {
		t.Errorf("secret %s token %q (len %d)", a.Name, tok, len(tok))
	}
	if owner := metav1.GetControllerOf(a); owner == nil || owner.Name != "python-pool" || a.Labels[arlv1.LabelPool] != "python-pool" {
		t.Errorf("secret owner/labels = %+v %v", owner, a.Labels)
	}
	if a.Immutable == nil || !*a.Immutable {
		t.Error("token secret is not immutable")
	}
}
