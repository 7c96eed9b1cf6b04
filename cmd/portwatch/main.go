//go:build linux

// Command portwatch is a live terminal monitor of the machine's sockets: what
// listens, who is connected, which process owns each socket and what its risk
// is. With --once or --json it prints one snapshot and exits; portwatch watch
// polls without a terminal, for a service, portwatch baseline save writes
// the listeners expected on the machine, and portwatch lab runs a scene of
// real sockets for a class.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// newPortwatch is the whole command line: the root command and every
// subcommand, each built by its own constructor in its own file, with its
// own settings, running itself. A new subcommand is a file and a line here.
func newPortwatch() *cobra.Command {
	root := newRootCommand(runRoot)
	root.AddCommand(
		newWatchCommand(runWatch),
		newBaselineCommand(saveBaselineNow),
		newLabCommand(monitorOnScene),
		newCompletionCommand(),
		newManCommand(),
	)
	return root
}

// errDeviations is --once's answer when a listener is unexpected, changed
// or missing: the report says which, and the exit code is 1.
var errDeviations = errors.New("listeners differ from the baseline")

// run is the whole program: it returns the exit code, and every error is one
// line on stderr. 0: done (and, with a baseline, every listener expected);
// 1: --once found listeners that differ from the baseline, or something
// failed; 2: a command-line mistake or a baseline file that does not parse;
// 3: watch's metrics port is held by another process; the lab's namespace
// process's own code when it fails (it has said why).
func run(args []string, stdout, stderr io.Writer) int {
	defer startCPUProfile(stderr)()
	return exitCode(execute(newPortwatch(), args, stdout, stderr), stderr)
}

// exitCode is run's answer for what a command returned, with its line on
// stderr.
func exitCode(err error, stderr io.Writer) int {
	var (
		u       errUsage
		bad     errBadBaseline
		labExit errLabExit
		coded   interface{ ExitCode() int } // an error with an exit code of its own (watch's port held: 3)
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "portwatch: %s (%s)\n", u.msg, u.seeHelp())
		return 2
	case errors.As(err, &coded):
		fmt.Fprintf(stderr, "portwatch: %v\n", err)
		return coded.ExitCode()
	case errors.As(err, &labExit):
		return labExit.code
	case errors.Is(err, errDeviations):
		return 1
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "portwatch: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "portwatch: %v\n", err)
	return 1
}
