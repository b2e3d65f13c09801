package main

import (
	"context"
	"os"
	_ "time/tzdata" // CronJob time zones, as the upstream binaries do

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"

	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl auth plugins
)

// commands maps a component name to its entry point. Each receives argv
// with the component's name as args[0] and returns the exit code.
var commands = map[string]func(args []string) int{
	"etcd":                    runEtcd,
	"kube-apiserver":          func(args []string) int { return runCobra(args, apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func(args []string) int { return runCobra(args, controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func(args []string) int { return runCobra(args, scheduler.NewSchedulerCommand()) },
	"kubectl":                 runKubectl,
	"kubelet":                 func(args []string) int { return runCobra(args, kubelet.NewKubeletCommand(context.Background())) },
	"kube-proxy":              func(args []string) int { return runCobra(args, proxy.NewProxyCommand()) },
}

// runCobra runs a component's cobra command as its own main would, with
// os.Args rewritten so code reading it sees the component's argv.
func runCobra(args []string, command *cobra.Command) int {
	os.Args = args
	command.SetArgs(args[1:])
	return cli.Run(command)
}

func runEtcd(args []string) int {
	etcdmain.Main(args) // exits the process itself on error
	return 0
}

func runKubectl(args []string) int {
	os.Args = args
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(args)) //nolint:errcheck // as upstream kubectl
	command := kubectlcmd.NewDefaultKubectlCommand()
	command.SetArgs(args[1:])
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}
