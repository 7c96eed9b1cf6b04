//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// execute runs a command line on a command tree (newPortwatch's, or a
// test's): help when --help or -h is anywhere on it, whatever else is
// wrong; else the command it names, which runs itself. A mistake on the
// command line comes back as an errUsage naming the command whose --help
// to see; what the command returns, as it is.
func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) error {
	if c := helpAsked(root, args); c != nil {
		writeHelp(stdout, c)
		return nil
	}
	if err := refuseHiddenArguments(args); err != nil {
		return err
	}
	// Whatever fails before a command starts is a mistake on the command
	// line; cobra's own errors (should there be any) are made one line.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	// Never nil: cobra reads os.Args when given nil.
	root.SetArgs(append([]string{}, args...))
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteC()
	if err == nil {
		return nil
	}
	var u errUsage
	switch {
	case errors.As(err, &u):
	case !started:
		u = errUsage{msg: strings.Join(strings.Fields(err.Error()), " ")}
	default:
		return err
	}
	if c != nil && c != root && c.Name() != "help" {
		u.see = c.CommandPath()
	}
	return u
}

// helpAsked returns the command whose help the command line asks for, or
// nil. --help (or --help=true) and -h ask for it anywhere before "--",
// alone or in a group of one-letter flags (-hx), but not as the value of a
// flag that takes one (--log -h logs to a file named -h). A shell asking
// for completions (cobra's __complete) is not asking for help.
func helpAsked(root *cobra.Command, args []string) *cobra.Command {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil
	}
	c, rest, err := root.Find(args)
	if err != nil || c == nil {
		c, rest = root, args
	}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			return nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if name == "help" {
				if on, err := strconv.ParseBool(value); !hasValue || (err == nil && on) {
					return c
				}
				continue
			}
			if f := c.Flags().Lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" {
				i++ // the next word is this flag's value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			letters, value, hasValue := strings.Cut(a[1:], "=")
			if letters == "h" && hasValue {
				if on, err := strconv.ParseBool(value); err == nil && on {
					return c
				}
				continue
			}
			if strings.ContainsRune(letters, 'h') && strings.Trim(letters, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
				return c
			}
		}
	}
	return nil
}

// refuseHiddenArguments refuses what the libraries would take without a
// word: pflag skips "-test.*" arguments, for programs run by go test.
func refuseHiddenArguments(args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-test.") {
			name, _, _ := strings.Cut(a, "=")
			return errUsage{msg: "unknown flag " + name}
		}
	}
	return nil
}

// usageAnnotation holds a command's usage lines, when cobra's one line
// ("portwatch watch [flags]") does not say enough.
const usageAnnotation = "portwatch:usage"

// writeHelp is --help, for every command: what it is (Short), how to call
// it, its commands, what it does (Long, which the man page says too) and
// its flags.
func writeHelp(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "%s: %s.\n\nUsage:\n", c.CommandPath(), c.Short)
	usage := c.Annotations[usageAnnotation]
	if usage == "" {
		usage = c.UseLine()
	}
	for _, line := range strings.Split(usage, "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
	if subs := listedCommands(c); len(subs) > 0 {
		fmt.Fprint(w, "\nCommands:\n")
		width := 0
		for _, sub := range subs {
			width = max(width, len(commandUse(c, sub)))
		}
		for _, sub := range subs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, commandUse(c, sub), sub.Short)
		}
	}
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", c.Long)
	}
	fmt.Fprint(w, "\nFlags:\n")
	fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
}

// listedCommands are the commands under c that its help lists: a command
// with a single command of its own is listed as that one (baseline save).
func listedCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() {
			continue
		}
		if inner := listedCommands(sub); len(inner) == 1 {
			sub = inner[0]
		}
		out = append(out, sub)
	}
	return out
}

// commandUse is how c's help writes sub: its path under c and its
// arguments ("baseline save [FILE]").
func commandUse(c, sub *cobra.Command) string {
	use := strings.TrimPrefix(sub.CommandPath(), c.CommandPath()+" ")
	if _, args, ok := strings.Cut(sub.Use, " "); ok {
		use += " " + args
	}
	return use
}
