// Command podbench measures, against a running cluster, how long a pod on
// the process node takes from create to Ready and from delete to gone.
//
//	podbench --kubeconfig=PATH [--namespace=default] [--runs=10] [--probe=http|exec|none]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	namespace := flag.String("namespace", "default", "namespace for the test pods")
	runs := flag.Int("runs", 10, "pods to create and delete, one after the other")
	probe := flag.String("probe", "http", "readiness probe: http (python3 http.server), exec, none")
	node := flag.String("node", "", "bind the pods to this node directly (default: let the scheduler place them)")
	flag.Parse()
	if err := bench(*kubeconfig, *namespace, *runs, *probe, *node); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func bench(kubeconfig, ns string, runs int, probe, node string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var ready, gone []time.Duration
	for i := range runs {
		name := fmt.Sprintf("podbench-%d-%d", time.Now().UnixNano()%100000, i)
		r, g, err := once(ctx, cs, ns, name, probe, node)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		ready, gone = append(ready, r), append(gone, g)
		fmt.Printf("run %d: create->Ready %v, delete->gone %v\n", i, r.Round(time.Millisecond), g.Round(time.Millisecond))
	}
	fmt.Printf("create->Ready: %s\ndelete->gone:  %s\n", summary(ready), summary(gone))
	return nil
}

func summary(d []time.Duration) string {
	slices.Sort(d)
	return fmt.Sprintf("p50 %v  max %v  (n=%d)", d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond), len(d))
}

func once(ctx context.Context, cs kubernetes.Interface, ns, name, probe, node string) (time.Duration, time.Duration, error) {
	c := corev1.Container{Name: "main", Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}
	switch probe {
	case "http":
		c.Command = []string{"python3", "-m", "http.server", "5000"}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(5000)}}}
	case "exec":
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{c}}}
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		return 0, 0, err
	}
	defer w.Stop()
	start := time.Now()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return 0, 0, err
	}
	var readyAfter time.Duration
	timeout := time.After(60 * time.Second)
	for readyAfter == 0 {
		select {
		case ev := <-w.ResultChan():
			if p, ok := ev.Object.(*corev1.Pod); ok && isReady(p) {
				readyAfter = time.Since(start)
			}
		case <-timeout:
			return 0, 0, fmt.Errorf("pod %s not Ready within 60 s", name)
		}
	}
	start = time.Now()
	if err := cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return 0, 0, err
	}
	for {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Deleted {
				return readyAfter, time.Since(start), nil
			}
		case <-timeout:
			return 0, 0, fmt.Errorf("pod %s not gone within 60 s", name)
		}
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
