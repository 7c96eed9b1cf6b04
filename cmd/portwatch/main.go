// Command portwatch is a live terminal monitor of the machine's sockets: what
// listens, who is connected, which process owns each socket and what its risk
// is. With --once or --json it prints one snapshot and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/collect"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it returns the exit code, and every error is one
// line on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout)
	switch {
	case errors.Is(err, errHelpShown):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "portwatch: %v (see portwatch --help)\n", err)
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "portwatch %s\n", version)
		return 0
	}
	if err := dispatch(o, stdout); err != nil {
		fmt.Fprintf(stderr, "portwatch: %v\n", err)
		return 1
	}
	return 0
}

func dispatch(o options, stdout io.Writer) error {
	src := collect.NewLive()
	if o.once || o.json {
		return dispatchOnce(o, src, stdout)
	}
	return runMonitor(o, src)
}

// dispatchOnce prints one snapshot, as tables or as JSON. The whole
// snapshot is assessed before --listening or --established narrow what is
// printed: a listener's connections count whatever is shown.
func dispatchOnce(o options, src sockets.Source, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading sockets: %w", err)
	}
	a := assess.Assess(snap, assess.SystemKnowledge())
	if o.json {
		return writeJSON(stdout, snap, a, o.keeps)
	}
	return printTables(stdout, snap, a, o)
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
