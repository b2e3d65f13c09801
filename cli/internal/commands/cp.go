package commands

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arl-infra/arl/cli/internal/files"
	"github.com/arl-infra/arl/cli/internal/sandbox"
)

func newCpCmd(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy files and directories to or from a sandbox (SANDBOX:PATH on one side)",
		Long: `Copy a file or a directory tree between this machine and a sandbox. One
side is SANDBOX:PATH; a relative PATH is taken from /workspace. Directories
travel as tar streams; modes are kept. The sidecar's file calls carry the
data (paths inside its allowed roots, /workspace by default); a sidecar
without them gets a tar piped through its shell instead. When the destination is an
existing directory, the source goes inside it, as cp -r does.`,
		Example: `  kubectl arl cp ./src my-workspace:/workspace/src
  kubectl arl cp my-workspace:results.json ./results.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcSB, srcPath := splitRemote(args[0])
			dstSB, dstPath := splitRemote(args[1])
			switch {
			case srcSB != "" && dstSB != "":
				return errors.New("copy between two sandboxes is not supported: copy to this machine first")
			case srcSB == "" && dstSB == "":
				return errors.New("one side must be SANDBOX:PATH")
			case dstSB != "":
				conn, err := o.Dial(cmd.Context(), dstSB)
				if err != nil {
					return err
				}
				defer conn.Close()
				return sandbox.Describe(dstSB, files.CopyTo(cmd.Context(), conn.Client, srcPath, dstPath))
			default:
				conn, err := o.Dial(cmd.Context(), srcSB)
				if err != nil {
					return err
				}
				defer conn.Close()
				return sandbox.Describe(srcSB, files.CopyFrom(cmd.Context(), conn.Client, srcPath, dstPath))
			}
		},
	}
}

// splitRemote splits "SANDBOX:PATH" (a relative PATH is under /workspace);
// a local path (no colon before the first slash) gives "".
func splitRemote(arg string) (string, string) {
	i := strings.Index(arg, ":")
	if i <= 0 || strings.Contains(arg[:i], "/") {
		return "", arg
	}
	p := arg[i+1:]
	if !strings.HasPrefix(p, "/") {
		p = "/workspace/" + p
	}
	return arg[:i], p
}
