package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/arl-infra/arl/cli/internal/kube"
	arlv1 "github.com/arl-infra/arl/operator/api/v1alpha1"
)

// newListCmd lists one ARL kind as `kubectl get` does: the API server's
// table (the CRD's printer columns), or the objects with -o json|yaml.
func newListCmd(o *Options, use, resource, short string) *cobra.Command {
	var output, selector string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   use + " [NAME...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ns := ""
			if !allNamespaces {
				var err error
				if ns, err = o.Namespace(); err != nil {
					return err
				}
			}
			switch output {
			case "", "wide":
				return printTable(cmd.Context(), o, cmd.OutOrStdout(), resource, ns, selector, args, output == "wide", allNamespaces)
			case "json", "yaml", "name":
				return printObjects(cmd.Context(), o, cmd.OutOrStdout(), resource, ns, selector, args, output)
			}
			return fmt.Errorf("unknown output format %q: use wide, json, yaml or name", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, json, yaml or name")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, as kubectl's -l")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	return cmd
}

func arlRESTClient(o *Options) (*rest.RESTClient, error) {
	base, err := o.Kube.Config()
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(base)
	cfg.GroupVersion = &arlv1.GroupVersion
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(kube.Scheme).WithoutConversion()
	return rest.RESTClientFor(cfg)
}

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

func printTable(ctx context.Context, o *Options, out io.Writer, resource, ns, selector string, names []string, wide, withNS bool) error {
	rc, err := arlRESTClient(o)
	if err != nil {
		return err
	}
	get := func(name string) (*metav1.Table, error) {
		req := rc.Get().Resource(resource).Param("includeObject", "Metadata").SetHeader("Accept", tableAccept)
		if ns != "" {
			req = req.Namespace(ns)
		}
		if name != "" {
			req = req.Name(name)
		}
		if selector != "" {
			req = req.Param("labelSelector", selector)
		}
		raw, err := req.DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", resource, err)
		}
		t := &metav1.Table{}
		if err := json.Unmarshal(raw, t); err != nil {
			return nil, fmt.Errorf("reading the %s table: %w", resource, err)
		}
		for i := range t.Rows {
			if obj := t.Rows[i].Object; len(obj.Raw) > 0 {
				m := &metav1.PartialObjectMetadata{}
				if json.Unmarshal(obj.Raw, m) == nil {
					t.Rows[i].Object.Object = m
				}
			}
		}
		return t, nil
	}
	var table *metav1.Table
	if len(names) == 0 {
		if table, err = get(""); err != nil {
			return err
		}
	} else {
		for _, name := range names {
			t, err := get(name)
			if err != nil {
				return err
			}
			if table == nil {
				table = t
			} else {
				table.Rows = append(table.Rows, t.Rows...)
			}
		}
	}
	if len(table.Rows) == 0 {
		where := "in namespace " + ns
		if ns == "" {
			where = "in any namespace"
		}
		fmt.Fprintf(o.IO.ErrOut, "No %s found %s.\n", resource, where)
		return nil
	}
	return printers.NewTablePrinter(printers.PrintOptions{Wide: wide, WithNamespace: withNS}).PrintObj(table, out)
}

func printObjects(ctx context.Context, o *Options, out io.Writer, resource, ns, selector string, names []string, output string) error {
	cl, err := o.Kube.Client()
	if err != nil {
		return err
	}
	var list client.ObjectList
	switch resource {
	case "warmpools":
		list = &arlv1.WarmPoolList{}
	case "sandboxes":
		list = &arlv1.SandboxList{}
	default:
		list = &arlv1.TaskList{}
	}
	opts := []client.ListOption{}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if selector != "" {
		sel, err := metav1.ParseToLabelSelector(selector)
		if err != nil {
			return fmt.Errorf("label selector %q: %w", selector, err)
		}
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return fmt.Errorf("label selector %q: %w", selector, err)
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: ls})
	}
	if err := cl.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing %s: %w", resource, err)
	}
	items, err := itemsOf(list, names)
	if err != nil {
		return err
	}
	return printObjs(out, output, items)
}

// itemsOf returns the list's items (with kind and apiVersion set), keeping
// only the named ones when names are given.
func itemsOf(list client.ObjectList, names []string) ([]runtime.Object, error) {
	objs, err := metaItems(list)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return objs, nil
	}
	var out []runtime.Object
	for _, name := range names {
		found := false
		for _, obj := range objs {
			if obj.(client.Object).GetName() == name {
				out, found = append(out, obj), true
			}
		}
		if !found {
			return nil, fmt.Errorf("%q not found", name)
		}
	}
	return out, nil
}

func metaItems(list client.ObjectList) ([]runtime.Object, error) {
	var objs []runtime.Object
	switch l := list.(type) {
	case *arlv1.WarmPoolList:
		for i := range l.Items {
			objs = append(objs, &l.Items[i])
		}
	case *arlv1.SandboxList:
		for i := range l.Items {
			objs = append(objs, &l.Items[i])
		}
	case *arlv1.TaskList:
		for i := range l.Items {
			objs = append(objs, &l.Items[i])
		}
	}
	for _, obj := range objs {
		gvks, _, err := kube.Scheme.ObjectKinds(obj)
		if err != nil {
			return nil, err
		}
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	return objs, nil
}

// printObjs prints one object as itself, several as a kubectl "List".
func printObjs(out io.Writer, output string, objs []runtime.Object) error {
	var p printers.ResourcePrinter
	switch output {
	case "json":
		p = &printers.JSONPrinter{}
	case "yaml":
		p = &printers.YAMLPrinter{}
	case "name":
		p = &printers.NamePrinter{}
	default:
		return fmt.Errorf("unknown output format %q", output)
	}
	if len(objs) == 1 || output == "name" {
		for _, obj := range objs {
			if err := p.PrintObj(obj, out); err != nil {
				return err
			}
		}
		return nil
	}
	list := &metav1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, obj := range objs {
		list.Items = append(list.Items, runtime.RawExtension{Object: obj})
	}
	return p.PrintObj(list, out)
}
