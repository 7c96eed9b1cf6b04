package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// minInterval keeps portwatch from polling faster than it can be useful.
const minInterval = 100 * time.Millisecond

// options are the command line's settings.
type options struct {
	once, json                bool
	listening, established    bool
	interval                  time.Duration
	readOnly, resolve, mouse  bool
	noColor, version, showAll bool
}

// intervalValue parses "500ms", "2s" or a bare number of seconds ("2", "0.5").
type intervalValue struct{ d *time.Duration }

func (v intervalValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v intervalValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return errors.New("want a duration such as 500ms, 2s or 2")
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < minInterval {
		return fmt.Errorf("must be at least %v", minInterval)
	}
	*v.d = d
	return nil
}

// errUsage is a command-line mistake: one line on stderr, exit code 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("portwatch", flag.ContinueOnError)
	o.interval = time.Second
	fs.BoolVar(&o.once, "once", false, "print the sockets as plain-text tables once and exit")
	fs.BoolVar(&o.json, "json", false, "print one snapshot as JSON and exit")
	fs.BoolVar(&o.listening, "listening", false, "only listening sockets (with --once or --json)")
	fs.BoolVar(&o.established, "established", false, "only established connections (with --once or --json)")
	fs.BoolVar(&o.showAll, "all", false, "with --once, also list sockets in the other TCP states")
	fs.Var(intervalValue{&o.interval}, "interval", "`duration` between polls, at least 100ms: 500ms, 2s or 2 (seconds)")
	fs.BoolVar(&o.readOnly, "read-only", false, "disable ending processes from the monitor (K)")
	fs.BoolVar(&o.resolve, "resolve", false, "show remote addresses as host names (makes DNS queries)")
	fs.BoolVar(&o.mouse, "mouse", false, "enable the mouse wheel in the monitor")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	return fs
}

// parseFlags parses args; --help writes the usage to stdout and returns
// flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stdout)
			return o, err
		}
		return o, errUsage{friendlyFlagError(err)}
	}
	if fs.NArg() > 0 {
		return o, errUsage{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if o.listening && o.established {
		return o, errUsage{"--listening and --established exclude each other"}
	}
	if o.once && o.json {
		return o, errUsage{"--once and --json exclude each other"}
	}
	return o, nil
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "portwatch: a live monitor of this machine's sockets, their processes and their risks.\n\n")
	fmt.Fprintf(w, "Usage:\n  portwatch [flags]          the interactive monitor\n  portwatch --once [flags]   print tables and exit\n  portwatch --json [flags]   print a JSON snapshot and exit\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		def := ""
		if f.Name == "interval" {
			def = " (default 1s)"
		}
		fmt.Fprintf(w, "  %-22s %s%s\n", arg, usage, def)
	})
	fmt.Fprintf(w, "\nRun as root to see the owners of every socket.\n")
}

// friendlyFlagError rewords the flag package's messages with the double
// dashes users type: "unknown flag --bogus".
func friendlyFlagError(err error) string {
	msg := strings.TrimSpace(err.Error())
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			val, tail := rest[:i], rest[i+len(" for flag -"):]
			name, why, _ := strings.Cut(tail, ": ")
			return fmt.Sprintf("invalid --%s %s: %s", name, val, why)
		}
	}
	return msg
}
