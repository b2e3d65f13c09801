package task

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

func serialTask(name string, created time.Time, rv string, state arlv1.TaskState) arlv1.Task {
	return arlv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), CreationTimestamp: metav1.NewTime(created), ResourceVersion: rv},
		Status:     arlv1.TaskStatus{State: state},
	}
}

func TestFirstInLineFollowsCreationOrder(t *testing.T) {
	sec := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	// Created within one second: the revision orders them, not the name.
	b := serialTask("b", sec, "100", "")
	a := serialTask("a", sec, "101", "")
	c := serialTask("c", sec.Add(time.Second), "50", "") // a later second wins over a smaller revision
	all := []arlv1.Task{a, b, c}
	for _, tc := range []struct {
		task arlv1.Task
		want bool
	}{{b, true}, {a, false}, {c, false}} {
		o := newCreationOrder()
		if got := o.firstInLine(&tc.task, all); got != tc.want {
			t.Errorf("firstInLine(%s) = %v, want %v", tc.task.Name, got, tc.want)
		}
	}
	// Once b finished, a is next; then c.
	o := newCreationOrder()
	bDone := serialTask("b", sec, "120", arlv1.TaskStateSucceeded)
	if !o.firstInLine(&a, []arlv1.Task{a, bDone, c}) || o.firstInLine(&c, []arlv1.Task{a, bDone, c}) {
		t.Error("after b finished, a should be first in line and c not")
	}
}

func TestCreationOrderKeepsTheFirstRevisionSeen(t *testing.T) {
	sec := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	o := newCreationOrder()
	x := serialTask("x", sec, "100", "")
	y := serialTask("y", sec, "105", "")
	if o.compare(&x, &y) >= 0 {
		t.Fatal("x created first should come first")
	}
	// x is written later (a waiting status): its revision grows, its place does not.
	x.ResourceVersion = "200"
	if o.compare(&x, &y) >= 0 {
		t.Fatal("a later write moved x behind y")
	}
	o.forget(x.UID)
	if o.compare(&x, &y) <= 0 {
		t.Fatal("a forgotten task is ordered by its current revision")
	}
}
