//go:build linux

// Command portwatch is a live terminal monitor of the machine's sockets: what
// listens, who is connected, which process owns each socket and what its risk
// is. With --once or --json it prints one snapshot and exits; portwatch watch
// polls without a terminal, for a service, and portwatch baseline save
// writes the listeners expected on the machine.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/lab"
	"github.com/portwatch/portwatch/sockets/poll"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errDeviations is --once's answer when a listener is unexpected, changed
// or missing: the report says which, and the exit code is 1.
var errDeviations = errors.New("listeners differ from the baseline")

// run is the whole program: it returns the exit code, and every error is one
// line on stderr. 0: done (and, with a baseline, every listener expected);
// 1: --once found listeners that differ from the baseline, or something
// failed; 2: a command-line mistake or a baseline file that does not parse;
// 3: watch's metrics port is held by another process.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout)
	var u errUsage
	switch {
	case errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "portwatch: %s (%s)\n", u.msg, u.seeHelp())
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "portwatch: %v\n", err)
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "portwatch %s\n", version)
		return 0
	}
	err = dispatch(o, stdout, stderr)
	var bad errBadBaseline
	var labExit errLabExit
	var coded interface{ ExitCode() int } // an error with an exit code of its own (watch's port held: 3)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &coded):
		fmt.Fprintf(stderr, "portwatch: %v\n", err)
		return coded.ExitCode()
	case errors.As(err, &labExit): // the lab's namespace process has said why
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

func dispatch(o options, stdout, stderr io.Writer) error {
	switch o.command {
	case cmdBaselineSave:
		return saveBaseline(o, collect.NewLive(), stdout)
	case cmdWatch:
		return runWatch(o, stdout, stderr)
	case cmdLab:
		runLabMonitor = func(scene lab.Scene) error {
			return runMonitor(o, collect.NewLive(), nil, "", scene)
		}
		return runLab(labConfig{noNetns: o.labNoNetns})
	}
	b, savePath, err := loadBaseline(o)
	if err != nil {
		return err
	}
	src := collect.NewLive()
	if o.once || o.json {
		return dispatchOnce(o, src, b, stdout)
	}
	return runMonitor(o, src, b, savePath, nil)
}

// dispatchOnce prints one snapshot, as tables or as JSON. The whole
// snapshot is assessed before --listening or --established narrow what is
// printed: a listener's connections count whatever is shown. With a
// baseline, --once returns errDeviations when a listener differs from it.
func dispatchOnce(o options, src sockets.Source, b *baseline.Baseline, stdout io.Writer) error {
	r, err := poll.New(poll.Config{Source: src}).Poll(context.Background(), b)
	if err != nil {
		return fmt.Errorf("reading sockets: %w", err)
	}
	if o.json {
		return writeJSON(stdout, r, o.keeps)
	}
	if err := printTables(stdout, r.Snapshot, r.Assessment, o); err != nil {
		return err
	}
	if b != nil && len(baselineDeviations(r.Assessment)) > 0 {
		return errDeviations
	}
	return nil
}

// keeps reports whether --listening or --established keep a socket.
func (o options) keeps(s *sockets.Socket) bool {
	switch {
	case o.listening:
		return s.Kind() == sockets.KindListening
	case o.established:
		return s.Kind() == sockets.KindEstablished
	}
	return true
}
