//go:build linux

package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newCompletionCommand is portwatch completion bash|zsh|fish: cobra's
// completion scripts, which ask portwatch itself (cobra's hidden
// __complete) for the commands and flags, so they never fall behind.
// PowerShell's is left out: portwatch reads Linux's kernel interfaces.
func newCompletionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print the shell completion script for bash, zsh or fish",
		Long: `Prints a script that completes portwatch's commands and flags in the shell.
bash: source <(portwatch completion bash) in ~/.bashrc, or save it as
/etc/bash_completion.d/portwatch (needs the bash-completion package).
zsh: portwatch completion zsh > "${fpath[1]}/_portwatch", with compinit on.
fish: portwatch completion fish > ~/.config/fish/completions/portwatch.fish.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return errUsage{msg: fmt.Sprintf("unknown shell %q: portwatch completion bash, zsh or fish", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return errUsage{msg: "completion needs a shell: portwatch completion bash, zsh or fish"}
		},
	}
	addHelpFlag(cmd.Flags())
	for _, sh := range []struct {
		name string
		gen  func(root *cobra.Command, w io.Writer) error
	}{
		{"bash", func(root *cobra.Command, w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
		{"zsh", func(root *cobra.Command, w io.Writer) error { return root.GenZshCompletion(w) }},
		{"fish", func(root *cobra.Command, w io.Writer) error { return root.GenFishCompletion(w, true) }},
	} {
		sub := &cobra.Command{
			Use:   sh.name,
			Short: "print the completion script for " + sh.name,
			Args:  flagsOnly,
			RunE:  func(c *cobra.Command, _ []string) error { return sh.gen(c.Root(), c.OutOrStdout()) },
		}
		addHelpFlag(sub.Flags())
		cmd.AddCommand(sub)
	}
	return cmd
}
