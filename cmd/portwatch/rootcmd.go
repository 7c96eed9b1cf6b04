//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/collect"
	"github.com/portwatch/portwatch/sockets/poll"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runner is what a command does with its settings once its command line
// has parsed. Constructors take theirs, so that a test can parse a command
// line into the settings without running anything.
type runner[S any] func(s S, stdout, stderr io.Writer) error

// monitorSettings are the monitor's flags (the lab's monitor has their
// defaults).
type monitorSettings struct {
	interval                time.Duration
	logPath                 string // --log
	bell, readOnly, resolve bool
	mouse, noColor          bool

	logFormat logFormat // --log-format: the schema of --log's lines
}

// rootSettings are portwatch's own command line: the monitor, --once and
// --json.
type rootSettings struct {
	monitorSettings
	baselineChoice
	once, json         bool
	listening, showAll bool // --listening, --all (--established is in baselineChoice)
	version            bool
}

// newRootCommand is portwatch itself: the monitor, or with --once or --json
// one snapshot. It also sets what every command inherits: the one-line
// errors, the help, the "help" word. The subcommands are registered by
// newPortwatch.
func newRootCommand(run runner[rootSettings]) *cobra.Command {
	var s rootSettings
	cmd := &cobra.Command{
		Use:   "portwatch",
		Short: "a live monitor of this machine's sockets, their processes and their risks",
		Long: `--listening, --established and --all narrow --once (and the first two --json);
--interval, --log, --bell, --read-only, --resolve, --mouse and --no-color are
for the monitor. With a baseline, --once exits 1 when a listener is
unexpected, changed or missing. Flags that would do nothing together are
refused. portwatch COMMAND --help describes each command.

Run as root to see the owners of every socket.`,
		Annotations: map[string]string{usageAnnotation: `portwatch [flags]              the interactive monitor
portwatch --once [flags]       print tables and exit
portwatch --json [flags]       print a JSON snapshot and exit
portwatch COMMAND [flags]      one of the commands below`},
		Args: noArguments,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := s.check(c.Flags()); err != nil {
				return err
			}
			return run(s, c.OutOrStdout(), c.ErrOrStderr())
		},
		// execute prints errors itself, as one line; cobra would add
		// "Error: " and the whole usage. Subcommands inherit both.
		SilenceErrors: true,
		SilenceUsage:  true,
		// portwatch completion (completion.go) is portwatch's own command,
		// with the shells it offers.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	cmd.SetUsageFunc(func(c *cobra.Command) error { writeHelp(c.OutOrStdout(), c); return nil })
	cmd.SetHelpCommand(newHelpWordCommand())

	fs := cmd.Flags()
	fs.SortFlags = false // --help lists them in this order: the modes first
	fs.BoolVar(&s.once, "once", false, "print the sockets as plain-text tables once and exit")
	fs.BoolVar(&s.json, "json", false, "print one snapshot as JSON and exit")
	fs.BoolVar(&s.listening, "listening", false, "only listening sockets (with --once or --json)")
	fs.BoolVar(&s.established, "established", false, "only established connections (with --once or --json)")
	fs.BoolVar(&s.showAll, "all", false, "with --once, also list the sockets in the other TCP states")
	addBaselineFlag(fs, &s.baselinePath)
	addIntervalFlag(fs, &s.interval)
	addLogFlag(fs, &s.logPath)
	addLogFormatFlag(fs, &s.logFormat)
	fs.BoolVar(&s.bell, "bell", false, "ring the terminal bell when an unexpected listener appears in the monitor")
	fs.BoolVar(&s.readOnly, "read-only", false, "disable ending processes from the monitor (K, then offered neither in the footer nor in the help)")
	fs.BoolVar(&s.resolve, "resolve", false, "show remote addresses as host names in the monitor (makes DNS queries)")
	fs.BoolVar(&s.mouse, "mouse", false, "enable the mouse wheel in the monitor")
	fs.BoolVar(&s.noColor, "no-color", false, "no colours in the monitor (also when NO_COLOR is set)")
	fs.BoolVar(&s.version, "version", false, "print the version, the commit and the date, and exit")
	addHelpFlag(fs)
	return cmd
}

// newHelpWordCommand answers the word "help": cobra would add a help
// command, and portwatch's help is --help, so the word is pointed to it.
func newHelpWordCommand() *cobra.Command {
	return &cobra.Command{
		Use: "help", Hidden: true, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				if sub, _, err := c.Root().Find(args[:1]); err == nil && sub != c.Root() && !sub.Hidden {
					return errUsage{msg: fmt.Sprintf("unexpected argument \"help\": did you mean %s --help?", sub.CommandPath())}
				}
			}
			return errUsage{msg: `unexpected argument "help": did you mean --help?`}
		},
	}
}

// noArguments refuses positional arguments to the root. A word that is a
// flag's name without its dashes ("portwatch once") is pointed to the flag.
func noArguments(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range listedCommands(c) {
		names = append(names, strings.TrimPrefix(sub.CommandPath(), c.CommandPath()+" "))
	}
	msg := fmt.Sprintf("unexpected argument %q: portwatch takes flags, or a command (%s)", args[0], strings.Join(names, ", "))
	if f := c.Flags().Lookup(args[0]); f != nil {
		msg = fmt.Sprintf("unexpected argument %q: did you mean --%s?", args[0], f.Name)
	}
	return errUsage{msg: msg}
}

// runRoot runs the root's command line: --version, one snapshot (--once,
// --json), or the monitor.
func runRoot(s rootSettings, stdout, _ io.Writer) error {
	if s.version {
		_, err := fmt.Fprintln(stdout, readBuildStamp())
		return err
	}
	b, savePath, err := loadBaseline(s.baselineChoice)
	if err != nil {
		return err
	}
	src := collect.NewLive()
	if s.once || s.json {
		return printOnce(s, src, b, stdout)
	}
	return runMonitor(s.monitorSettings, src, b, savePath, nil)
}

// printOnce prints one snapshot, as tables or as JSON. The whole
// snapshot is assessed before --listening or --established narrow what is
// printed: a listener's connections count whatever is shown. With a
// baseline, --once returns errDeviations when a listener differs from it.
func printOnce(o rootSettings, src sockets.Source, b *baseline.Baseline, stdout io.Writer) error {
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
func (o rootSettings) keeps(s *sockets.Socket) bool {
	switch {
	case o.listening:
		return s.Kind() == sockets.KindListening
	case o.established:
		return s.Kind() == sockets.KindEstablished
	}
	return true
}

// check refuses flag combinations that would do nothing, rather than
// ignoring one of them: each message says what to use instead. Booleans
// count when true; --interval counts when given at all.
func (o rootSettings) check(fs *pflag.FlagSet) error {
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
				return errUsage{msg: fmt.Sprintf("--version prints the version only: drop --%s", name)}
			}
		}
		return nil
	}
	if o.once && o.json {
		return errUsage{msg: "--once and --json exclude each other: --once prints tables, --json prints JSON; pick one"}
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
			return errUsage{msg: "--listening goes with --once or --json; in the monitor, the Listening tab (key 1) shows the listeners"}
		case o.established:
			return errUsage{msg: "--established goes with --once or --json; in the monitor, the Established tab (key 2) shows the connections"}
		case o.showAll:
			return errUsage{msg: "--all goes with --once; in the monitor, the All states tab (key 3) lists every socket"}
		case given("log-format") && !given("log"):
			return errUsage{msg: "--log-format says how --log writes the events: give --log FILE too (the monitor writes none without it)"}
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
		{"log", "takes one snapshot, with no events to log: --log is for the monitor and portwatch watch"},
		{"log-format", "takes one snapshot, with no events to log: --log-format is for the monitor's --log and portwatch watch"},
		{"bell", "rings no bell: --bell is for the monitor"},
	}
	for _, m := range monitorOnly {
		if given(m.flag) {
			return errUsage{msg: fmt.Sprintf("--%s does nothing with %s, which %s", m.flag, mode, m.why)}
		}
	}
	switch {
	case o.listening && o.established:
		return errUsage{msg: "--listening and --established exclude each other: leave both out for every socket"}
	case o.showAll && o.json:
		return errUsage{msg: `--all goes with --once only: --json always lists every state (filter on "kind" instead)`}
	case o.showAll && o.listening:
		return errUsage{msg: "--all lists every state and --listening keeps the listeners only: use one or the other"}
	case o.showAll && o.established:
		return errUsage{msg: "--all lists every state and --established keeps the connections only: use one or the other"}
	case o.established && given("baseline"):
		return errUsage{msg: "--baseline compares the listeners, which --established leaves out: use one or the other"}
	}
	return nil
}
