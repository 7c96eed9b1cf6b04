//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/clean"
)

// errBadBaseline is a baseline file that cannot be read or does not parse:
// one line naming the file (and the line), exit code 2, like a mistake on
// the command line. Nothing is compared against half a file.
type errBadBaseline struct{ err error }

func (e errBadBaseline) Unwrap() error { return e.err }

func (e errBadBaseline) Error() string {
	var pe *baseline.ParseError
	if errors.As(e.err, &pe) {
		return "baseline " + pe.Error() // baseline /etc/portwatch/baseline:7: port "x": ...
	}
	return e.err.Error() // baseline /etc/portwatch/baseline: permission denied
}

// loadBaseline reads the baseline o chooses: the --baseline file, or else the
// default file when it exists. It returns nil when there is none, and the
// path the monitor's b saves to: the --baseline file or the default path
// ("" when there is no home to find it in). With --established the default
// is not read: the connections have nothing to be compared with.
func loadBaseline(o baselineChoice) (*baseline.Baseline, string, error) {
	if o.baselinePath != "" {
		b, err := baseline.Load(o.baselinePath)
		if err != nil {
			return nil, o.baselinePath, errBadBaseline{err}
		}
		return b, o.baselinePath, nil
	}
	def, err := baseline.DefaultPath()
	if err != nil {
		return nil, "", nil
	}
	if o.established {
		return nil, def, nil
	}
	// A default file that cannot even be seen (another user's home, as
	// under sudo -u) is not there for this user; one that is there must be
	// a file of this user's (or root's) and parse, or it is refused.
	if _, err := os.Stat(def); err != nil {
		return nil, def, nil
	}
	b, err := baseline.Load(def)
	if err != nil {
		return nil, def, errBadBaseline{err}
	}
	return b, def, nil
}

// describeBaseline says which file is in use, in a few words.
func describeBaseline(b *baseline.Baseline) string {
	if b == nil {
		return "no baseline"
	}
	return fmt.Sprintf("baseline %s (%s)", b.Path, plural(len(b.Entries), "entry", "entries"))
}

// plural writes a count and its noun: 1 entry, 2 entries.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// saveBaseline is portwatch baseline save [FILE]: the listeners of now,
// ports in the kernel's ephemeral range widened to the range, written
// atomically to FILE or the default path. One line says where and how many.
func saveBaseline(o baselineSaveSettings, src sockets.Source, stdout io.Writer) error {
	path := o.saveTo
	if path == "" {
		def, err := baseline.DefaultPath()
		if err != nil {
			return fmt.Errorf("no default baseline file (%v): name one, portwatch baseline save FILE", err)
		}
		path = def
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading sockets: %w", err)
	}
	var listeners []*sockets.Socket
	unseen := 0
	for i := range snap.Sockets {
		if s := &snap.Sockets[i]; s.IsListening() {
			listeners = append(listeners, s)
			if s.Process() == nil {
				unseen++
			}
		}
	}
	// The kernel's /proc/sys/net/ipv4/ip_local_port_range, read by assess.
	eph := assess.SystemKnowledge().Ephemeral
	b := baseline.FromListeners(listeners, eph.Low, eph.High)
	host, _ := os.Hostname()
	if err := b.Save(path, clean.Text(host), time.Now()); err != nil {
		return fmt.Errorf("saving the baseline to %s: %w", path, err)
	}
	note := ""
	if unseen > 0 && !snap.Root {
		note = fmt.Sprintf(" (not root: the program of %s could not be seen and is saved as *)", plural(unseen, "listener", "listeners"))
	}
	_, err = fmt.Fprintf(stdout, "saved %s to %s%s\n", plural(len(b.Entries), "expected listener", "expected listeners"), path, note)
	return err
}

// baselineDeviations are the verdicts that differ from the baseline:
// unexpected and changed listeners, then the missing ones.
func baselineDeviations(a *assess.Assessment) []*assess.Verdict {
	var out []*assess.Verdict
	for _, v := range a.Verdicts {
		if st := v.Baseline.Status; st == baseline.Unexpected || st == baseline.Changed {
			out = append(out, v)
		}
	}
	return append(out, a.Missing...)
}

// entryPort writes an entry's port as its file does: 22, 32768-60999 or *.
func entryPort(e *baseline.Entry) string {
	switch {
	case e.Low == 0 && e.High == 65535:
		return baseline.Any
	case e.Low != e.High:
		return strconv.Itoa(int(e.Low)) + "-" + strconv.Itoa(int(e.High))
	}
	return strconv.Itoa(int(e.Low))
}
