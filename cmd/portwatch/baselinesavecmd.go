//go:build linux

package main

import (
	"fmt"
	"io"

	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/spf13/cobra"
)

// baselineSaveSettings are portwatch baseline save's command line.
type baselineSaveSettings struct {
	saveTo string // FILE; "" for the default path
}

// newBaselineCommand is portwatch baseline, whose one command is save
// (run is saveBaselineNow).
func newBaselineCommand(run runner[baselineSaveSettings]) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "the file of expected listeners",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return errUsage{msg: fmt.Sprintf("unknown command %q for portwatch baseline: the command is save", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return errUsage{msg: "baseline needs a command: portwatch baseline save [FILE]"}
		},
	}
	addHelpFlag(cmd.Flags())
	cmd.AddCommand(newBaselineSaveCommand(run))
	return cmd
}

// newBaselineSaveCommand is portwatch baseline save [FILE].
func newBaselineSaveCommand(run runner[baselineSaveSettings]) *cobra.Command {
	var s baselineSaveSettings
	cmd := &cobra.Command{
		Use:   "save [FILE]",
		Short: "save the listeners of now as the expected ones",
		Long: `Writes one line per listener (netns, protocol, address, port, program, user)
to FILE, or to the default file (~/.config/portwatch/baseline). Edit it by
hand; --baseline FILE compares the listeners with it (the monitor, --once,
--json and watch use the default file when it exists).`,
		Annotations: map[string]string{usageAnnotation: "portwatch baseline save [FILE]"},
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return errUsage{msg: fmt.Sprintf("baseline save takes one file at most; found %d arguments", len(args))}
			case len(args) == 1 && args[0] == "":
				return errUsage{msg: `invalid file "": want a file's path`}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				s.saveTo = args[0]
			}
			return run(s, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addHelpFlag(cmd.Flags())
	return cmd
}

// saveBaselineNow saves the listeners this machine has now.
func saveBaselineNow(s baselineSaveSettings, stdout, _ io.Writer) error {
	return saveBaseline(s, collect.NewLive(), stdout)
}
