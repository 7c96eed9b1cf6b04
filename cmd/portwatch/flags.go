//go:build linux

// The command line is parsed with github.com/spf13/cobra and its pflag.
// Besides the root command (the monitor, --once, --json: rootcmd.go) there
// are subcommands (portwatch watch, baseline save, lab, completion), each
// built by its own constructor in its own file, with its own settings and a
// RunE that runs it; main.go only registers them. Cobra finds the command,
// checks its arguments, lets commands share flag definitions (--interval,
// --baseline and --log, defined once here, say the same everywhere), lists
// them in --help, and writes the shell completions and the man pages from
// the same definitions, all of which pflag alone would leave to
// hand-written code. pflag reports typed errors (NotExistError,
// ValueRequiredError, InvalidValueError), so the one-line messages are
// built from the flag and the value, not by matching another package's
// text. Cobra's own printing is off: no "Error:" line, no usage dump
// (command.go runs the commands and writes the help).

package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The bounds of --interval. Below 100ms a poll can take longer than the
// interval on a busy server; above an hour a live monitor is not live, and
// a bound keeps huge numbers of seconds from overflowing a time.Duration.
const (
	minInterval = 100 * time.Millisecond
	maxInterval = time.Hour
)

// defaultInterval is --interval's default, and the lab's monitor's.
const defaultInterval = time.Second

// intervalValue parses "500ms", "2s" or a bare number of seconds ("2",
// "0.5"), from minInterval to maxInterval.
type intervalValue struct{ d *time.Duration }

func (v intervalValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

// Type names the value in --help: "--interval duration".
func (v intervalValue) Type() string { return "duration" }

// bareSeconds is a decimal number, as people write one: not the hex, NaN,
// Inf or digit underscores that strconv.ParseFloat also accepts. A sign and
// an exponent are let through, to be refused as too short or too long.
var bareSeconds = regexp.MustCompile(`^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// intervalRange is what every --interval message ends with, so that each
// refusal says what would be accepted.
var intervalRange = fmt.Sprintf("want a duration such as 500ms, 2s or 2 (seconds), from %s to %s",
	shortDuration(minInterval), shortDuration(maxInterval))

// shortDuration writes 1h rather than Go's 1h0m0s, and 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Set parses one --interval value; its errors become "invalid --interval
// VALUE: ..." in flagError.
func (v intervalValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		if !bareSeconds.MatchString(s) {
			return errors.New(intervalRange)
		}
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.New(intervalRange)
		}
		// Compared as seconds first: 1e20 seconds would overflow a Duration.
		if secs > maxInterval.Seconds() {
			return errors.New("too long; " + intervalRange)
		}
		d = time.Duration(math.Round(secs * float64(time.Second)))
	}
	switch {
	case d < minInterval:
		return errors.New("too short; " + intervalRange)
	case d > maxInterval:
		return errors.New("too long; " + intervalRange)
	}
	*v.d = d
	return nil
}

// errUsage is a command-line mistake: one line on stderr, exit code 2. see
// is the command whose --help to point to ("portwatch watch"); "" is the
// root.
type errUsage struct{ msg, see string }

func (e errUsage) Error() string { return e.msg }

// seeHelp is what a usage error's line ends with.
func (e errUsage) seeHelp() string {
	if e.see == "" {
		return "see portwatch --help"
	}
	return "see " + e.see + " --help"
}

// Flags that more than one command takes are defined once, so that each
// says the same in every --help (and the README has one row for it).

func addIntervalFlag(fs *pflag.FlagSet, d *time.Duration) {
	*d = defaultInterval
	fs.Var(intervalValue{d}, "interval",
		fmt.Sprintf("time between polls in the monitor and in watch, from %s to %s: 500ms, 2s or 2 (seconds)",
			shortDuration(minInterval), shortDuration(maxInterval)))
}

// baselineChoice is which baseline a command compares the listeners with
// (loadBaseline reads it): the --baseline file, or else the default file
// when it exists; with --established, none.
type baselineChoice struct {
	baselinePath string // --baseline; "" for the default file, when it exists
	established  bool   // --established: connections only, nothing to compare
}

func addBaselineFlag(fs *pflag.FlagSet, path *string) {
	fs.Var(pathValue{path, "file"}, "baseline",
		"compare the listeners with this baseline file; without it, the default file (~/.config/portwatch/baseline) when it exists")
}

func addLogFlag(fs *pflag.FlagSet, path *string) {
	fs.Var(pathValue{path, "file"}, "log",
		"append every event (a listener opened, closed, unexpected, missing; a new finding) to this file as a JSON line; watch writes them to stdout without it")
}

func addLogFormatFlag(fs *pflag.FlagSet, f *logFormat) {
	*f = logFormatPortwatch
	fs.Var(logFormatValue{f}, "log-format",
		"how events are written: portwatch (portwatch's own JSON lines) or ecs (Elastic Common Schema, for a SIEM)")
}

// logFormatValue is --log-format: one of the words of logFormats.
type logFormatValue struct{ f *logFormat }

func (v logFormatValue) String() string {
	if v.f == nil {
		return ""
	}
	return string(*v.f)
}

func (v logFormatValue) Type() string { return "format" }

func (v logFormatValue) Set(s string) error {
	for _, f := range logFormats {
		if s == string(f) {
			*v.f = f
			return nil
		}
	}
	return errors.New("want portwatch (portwatch's own JSON lines) or ecs (Elastic Common Schema)")
}

func addHelpFlag(fs *pflag.FlagSet) {
	// Defined here, not left to cobra, so that it is listed with the others
	// (and checked against the README) before anything is executed.
	fs.BoolP("help", "h", false, "print this help and exit")
}

// flagsOnly refuses positional arguments to a subcommand. A word that is
// a flag's name without its dashes ("portwatch lab no-netns") is pointed to
// the flag.
func flagsOnly(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q: %s takes flags only", args[0], c.CommandPath())
	if f := c.Flags().Lookup(args[0]); f != nil {
		msg = fmt.Sprintf("unexpected argument %q: did you mean --%s?", args[0], f.Name)
	}
	return errUsage{msg: msg}
}

// flagError turns pflag's typed errors into portwatch's one-line messages.
func flagError(c *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		noValue  *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &notExist):
		short := notExist.GetSpecifiedShortnames()
		if short == "" {
			return errUsage{msg: "unknown flag --" + notExist.GetSpecifiedName()}
		}
		// "-once" is read as the letters o, n, c, e: say what was meant.
		if f := c.Flags().Lookup(short); f != nil {
			return errUsage{msg: fmt.Sprintf("unknown flag -%s: long flags take two dashes, --%s", short, f.Name)}
		}
		if len(short) == 1 {
			return errUsage{msg: "unknown flag -" + short}
		}
		return errUsage{msg: fmt.Sprintf("unknown flag -%s in -%s", notExist.GetSpecifiedName(), short)}
	case errors.As(err, &noValue):
		return errUsage{msg: "--" + noValue.GetFlag().Name + " needs a value"}
	case errors.As(err, &invalid):
		f, value := invalid.GetFlag(), invalid.GetValue()
		if f.Value.Type() == "bool" {
			return errUsage{msg: fmt.Sprintf("invalid --%s %q: it takes true or false, or no value (--%s alone means true)", f.Name, value, f.Name)}
		}
		// "--interval --once": the value was forgotten and the next flag taken.
		if strings.HasPrefix(value, "--") {
			return errUsage{msg: fmt.Sprintf("--%s needs a value (it was followed by %s)", f.Name, value)}
		}
		return errUsage{msg: fmt.Sprintf("invalid --%s %q: %v", f.Name, value, invalid.Unwrap())}
	case errors.As(err, &syntax):
		return errUsage{msg: fmt.Sprintf("bad flag syntax %q: write --name or --name=value", syntax.GetSpecifiedFlag())}
	}
	return errUsage{msg: err.Error()}
}

// flagNames lists the flags in their --help order.
func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// pathValue is a file's path: any non-empty text. typ names it in --help.
type pathValue struct {
	p   *string
	typ string
}

func (v pathValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v pathValue) Type() string { return v.typ }

// Set refuses "" and, as the value of a flag followed by another flag
// ("--log --once"), "--...": flagError then says the value was forgotten.
// A file whose name starts with dashes is written ./--name.
func (v pathValue) Set(s string) error {
	switch {
	case s == "":
		return errors.New("want a file's path")
	case strings.HasPrefix(s, "--"):
		return errors.New("want a file's path (write ./" + s + " for a file of that name)")
	}
	*v.p = s
	return nil
}

// textfileValue is a path that node_exporter's textfile collector will
// read: it reads *.prom files only, so any other name would be written for
// nothing.
type textfileValue struct{ p *string }

func (v textfileValue) String() string { return pathValue{v.p, ""}.String() }
func (v textfileValue) Type() string   { return "file" }

func (v textfileValue) Set(s string) error {
	if strings.HasPrefix(s, "--") {
		return pathValue{v.p, ""}.Set(s)
	}
	if s == "" || strings.HasSuffix(s, "/") {
		return errors.New("want a file's path ending in .prom, in node_exporter's --collector.textfile.directory")
	}
	if !strings.HasSuffix(s, ".prom") {
		return errors.New("node_exporter's textfile collector reads only files ending in .prom")
	}
	*v.p = s
	return nil
}

// addrValue is where to serve metrics: HOST:PORT, or a bare port (":19273"
// or "19273"), which binds loopback only. A monitor of what a machine
// exposes must not expose more than it was told to.
type addrValue struct{ p *string }

func (v addrValue) String() string { return pathValue{v.p, ""}.String() }
func (v addrValue) Type() string   { return "host:port" }

const addrWant = "want HOST:PORT (127.0.0.1:19273, [::1]:19273) or a port (19273, binding 127.0.0.1)"

func (v addrValue) Set(s string) error {
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return errors.New(addrWant)
		}
		host, portText = "", s
	}
	p, err := strconv.ParseUint(portText, 10, 16)
	if err == nil && p == 0 {
		// a port the kernel picks: Prometheus would not know where to scrape
		return fmt.Errorf("port 0 would be one the kernel picks, which no scraper can be told: name the port; %s", addrWant)
	}
	if err != nil {
		if host == "" && !strings.Contains(s, ":") {
			return errors.New(addrWant)
		}
		return fmt.Errorf("port %q: %s", portText, addrWant)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	*v.p = net.JoinHostPort(host, portText)
	return nil
}
