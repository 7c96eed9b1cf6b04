// The command line is parsed with github.com/spf13/cobra and its pflag.
// Subcommands are coming (portwatch baseline save [FILE], portwatch watch,
// portwatch lab), each with flags and arguments of its own: cobra dispatches
// them, checks their arguments (cobra.MaximumNArgs(1) for FILE), shares
// flags between them (persistent flags such as --no-color) and lists them in
// --help, all of which pflag alone would leave to hand-written code. pflag
// reports typed errors (NotExistError, ValueRequiredError, InvalidValueError),
// so the one-line messages are built from the flag and the value, not by
// matching another package's text. Cobra's own printing is off: no "Error:"
// line, no usage dump, no completion command (see newRootCommand).

package main

import (
	"errors"
	"fmt"
	"io"
	"math"
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

// options are the command line's settings.
type options struct {
	once, json                bool
	listening, established    bool
	interval                  time.Duration
	readOnly, resolve, mouse  bool
	noColor, version, showAll bool
}

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

// errUsage is a command-line mistake: one line on stderr, exit code 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// errHelpShown is parseFlags' answer once --help has printed the usage:
// nothing more to do, exit code 0.
var errHelpShown = errors.New("help shown")

// newRootCommand defines portwatch's command and flags, setting o. It does
// not run anything: parseFlags executes it.
func newRootCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "portwatch",
		Short: "a live monitor of this machine's sockets, their processes and their risks",
		Args:  noArguments,
		// run prints errors itself, as one line; cobra would add "Error: "
		// and the whole usage.
		SilenceErrors: true,
		SilenceUsage:  true,
		// A completion command would be a subcommand the README does not
		// describe; the subcommands to come can decide to offer it.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { writeUsage(c.OutOrStdout(), c) })
	cmd.SetUsageFunc(func(c *cobra.Command) error { writeUsage(c.OutOrStdout(), c); return nil })

	fs := cmd.Flags()
	fs.SortFlags = false // --help lists them in this order: the modes first
	o.interval = time.Second
	fs.BoolVar(&o.once, "once", false, "print the sockets as plain-text tables once and exit")
	fs.BoolVar(&o.json, "json", false, "print one snapshot as JSON and exit")
	fs.BoolVar(&o.listening, "listening", false, "only listening sockets (with --once or --json)")
	fs.BoolVar(&o.established, "established", false, "only established connections (with --once or --json)")
	fs.BoolVar(&o.showAll, "all", false, "with --once, also list the sockets in the other TCP states")
	fs.Var(intervalValue{&o.interval}, "interval",
		fmt.Sprintf("time between polls in the monitor, from %s to %s: 500ms, 2s or 2 (seconds)",
			shortDuration(minInterval), shortDuration(maxInterval)))
	fs.BoolVar(&o.readOnly, "read-only", false, "disable ending processes from the monitor (K)")
	fs.BoolVar(&o.resolve, "resolve", false, "show remote addresses as host names in the monitor (makes DNS queries)")
	fs.BoolVar(&o.mouse, "mouse", false, "enable the mouse wheel in the monitor")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours in the monitor (also when NO_COLOR is set)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	// Defined here, not left to cobra, so that it is listed with the others
	// (and checked against the README) before anything is executed.
	fs.BoolP("help", "h", false, "print this help and exit")
	return cmd
}

// parseFlags parses and checks args. After --help, which writes the usage
// to stdout, it returns errHelpShown; every other error is an errUsage.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	var o options
	if err := refuseHiddenArguments(args); err != nil {
		return o, err
	}
	cmd := newRootCommand(&o)
	ran := false
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		ran = true
		return o.check(c.Flags())
	}
	// Never nil: cobra reads os.Args when given nil.
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(stdout)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		var u errUsage
		if !errors.As(err, &u) {
			// Cobra's own, should there be any: still one line.
			err = errUsage{strings.Join(strings.Fields(err.Error()), " ")}
		}
		return o, err
	}
	if !ran { // cobra printed the help instead of running
		return o, errHelpShown
	}
	return o, nil
}

// refuseHiddenArguments refuses what the libraries would take without a
// word: pflag skips "-test.*" arguments, for programs run by go test, and
// cobra answers "__complete" with shell completions, which portwatch does
// not offer (yet).
func refuseHiddenArguments(args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return errUsage{fmt.Sprintf("unexpected argument %q: portwatch takes flags only", args[0])}
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-test.") {
			name, _, _ := strings.Cut(a, "=")
			return errUsage{"unknown flag " + name}
		}
	}
	return nil
}

// noArguments refuses positional arguments. A word that is a flag's name
// without its dashes ("portwatch once", "portwatch help") is pointed to the
// flag.
func noArguments(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q: portwatch takes flags only", args[0])
	if f := c.Flags().Lookup(args[0]); f != nil {
		msg = fmt.Sprintf("unexpected argument %q: did you mean --%s?", args[0], f.Name)
	}
	return errUsage{msg}
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
			return errUsage{"unknown flag --" + notExist.GetSpecifiedName()}
		}
		// "-once" is read as the letters o, n, c, e: say what was meant.
		if f := c.Flags().Lookup(short); f != nil {
			return errUsage{fmt.Sprintf("unknown flag -%s: long flags take two dashes, --%s", short, f.Name)}
		}
		if len(short) == 1 {
			return errUsage{"unknown flag -" + short}
		}
		return errUsage{fmt.Sprintf("unknown flag -%s in -%s", notExist.GetSpecifiedName(), short)}
	case errors.As(err, &noValue):
		return errUsage{"--" + noValue.GetFlag().Name + " needs a value"}
	case errors.As(err, &invalid):
		f, value := invalid.GetFlag(), invalid.GetValue()
		if f.Value.Type() == "bool" {
			return errUsage{fmt.Sprintf("invalid --%s %q: it takes true or false, or no value (--%s alone means true)", f.Name, value, f.Name)}
		}
		// "--interval --once": the value was forgotten and the next flag taken.
		if strings.HasPrefix(value, "--") {
			return errUsage{fmt.Sprintf("--%s needs a value (it was followed by %s)", f.Name, value)}
		}
		return errUsage{fmt.Sprintf("invalid --%s %q: %v", f.Name, value, invalid.Unwrap())}
	case errors.As(err, &syntax):
		return errUsage{fmt.Sprintf("bad flag syntax %q: write --name or --name=value", syntax.GetSpecifiedFlag())}
	}
	return errUsage{err.Error()}
}

// check refuses flag combinations that would do nothing, rather than
// ignoring one of them: each message says what to use instead. Booleans
// count when true; --interval counts when given at all.
func (o options) check(fs *pflag.FlagSet) error {
	given := func(name string) bool {
		f := fs.Lookup(name)
		if f.Value.Type() == "bool" {
			return f.Value.String() == "true"
		}
		return f.Changed
	}
	if o.version {
		for _, name := range flagNames(fs) {
			if name != "version" && name != "help" && given(name) {
				return errUsage{fmt.Sprintf("--version prints the version only: drop --%s", name)}
			}
		}
		return nil
	}
	if o.once && o.json {
		return errUsage{"--once and --json exclude each other: --once prints tables, --json prints JSON; pick one"}
	}
	mode := ""
	switch {
	case o.once:
		mode = "--once"
	case o.json:
		mode = "--json"
	}
	if mode == "" { // the monitor
		switch {
		case o.listening:
			return errUsage{"--listening goes with --once or --json; in the monitor, the Listening tab (key 1) shows the listeners"}
		case o.established:
			return errUsage{"--established goes with --once or --json; in the monitor, the Established tab (key 2) shows the connections"}
		case o.showAll:
			return errUsage{"--all goes with --once; in the monitor, the All states tab (key 3) lists every socket"}
		}
		return nil
	}
	// One snapshot: the monitor's flags would do nothing.
	monitorOnly := []struct{ flag, why string }{
		{"interval", "takes one snapshot; to repeat it, run it under watch(1): watch -n 2 portwatch " + mode},
		{"read-only", "never ends processes: --read-only is for the monitor"},
		{"resolve", "prints addresses as numbers: --resolve is for the monitor"},
		{"mouse", "reads no mouse: --mouse is for the monitor"},
		{"no-color", "prints no colour: --no-color is for the monitor"},
	}
	for _, m := range monitorOnly {
		if given(m.flag) {
			return errUsage{fmt.Sprintf("--%s does nothing with %s, which %s", m.flag, mode, m.why)}
		}
	}
	switch {
	case o.listening && o.established:
		return errUsage{"--listening and --established exclude each other: leave both out for every socket"}
	case o.showAll && o.json:
		return errUsage{`--all goes with --once only: --json always lists every state (filter on "kind" instead)`}
	case o.showAll && o.listening:
		return errUsage{"--all lists every state and --listening keeps the listeners only: use one or the other"}
	case o.showAll && o.established:
		return errUsage{"--all lists every state and --established keeps the connections only: use one or the other"}
	}
	return nil
}

// flagNames lists the flags in their --help order.
func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// writeUsage is --help: what portwatch is, its three ways of running, its
// flags and which go together.
func writeUsage(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "portwatch: %s.\n\n", c.Short)
	fmt.Fprint(w, `Usage:
  portwatch [flags]          the interactive monitor
  portwatch --once [flags]   print tables and exit
  portwatch --json [flags]   print a JSON snapshot and exit

Flags:
`)
	fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
	fmt.Fprint(w, `
--listening, --established and --all narrow --once (and the first two --json);
--interval, --read-only, --resolve, --mouse and --no-color are for the monitor.
Flags that would do nothing together are refused.

Run as root to see the owners of every socket.
`)
}
