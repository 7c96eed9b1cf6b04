//go:build linux

// The command line is parsed with github.com/spf13/cobra and its pflag.
// Besides the root command (the monitor, --once, --json) there are
// subcommands (portwatch baseline save [FILE], portwatch watch; portwatch lab
// to come), each with flags and arguments of its own: cobra dispatches them,
// checks their arguments, lets them share flag definitions (--interval,
// --baseline and --log say the same everywhere) and lists them in --help,
// all of which pflag alone would leave to hand-written code. pflag
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

// The commands besides the root's monitor, --once and --json.
const (
	cmdWatch        = "watch"
	cmdBaselineSave = "baseline save"
	cmdLab          = "lab"
)

// options are the command line's settings.
type options struct {
	command                   string // "" (the root), cmdWatch or cmdBaselineSave
	once, json                bool
	listening, established    bool
	interval                  time.Duration
	readOnly, resolve, mouse  bool
	noColor, version, showAll bool
	baselinePath              string // --baseline; "" for the default file, when it exists
	logPath                   string // --log
	bell                      bool
	textfile                  string // watch --textfile
	metricsAddr               string // watch --metrics-addr, HOST:PORT with the host filled in
	metricsSystemdSocket      bool   // watch --metrics-systemd-socket: serve on the socket systemd passes
	saveTo                    string // baseline save [FILE]; "" for the default path
	labNoNetns                bool   // lab --no-netns
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

// errHelpShown is parseFlags' answer once --help has printed the usage:
// nothing more to do, exit code 0.
var errHelpShown = errors.New("help shown")

// Flags that more than one command takes are defined once, so that each
// says the same in every --help (and the README has one row for it).

func addIntervalFlag(fs *pflag.FlagSet, d *time.Duration) {
	*d = time.Second
	fs.Var(intervalValue{d}, "interval",
		fmt.Sprintf("time between polls in the monitor and in watch, from %s to %s: 500ms, 2s or 2 (seconds)",
			shortDuration(minInterval), shortDuration(maxInterval)))
}

func addBaselineFlag(fs *pflag.FlagSet, path *string) {
	fs.Var(pathValue{path, "file"}, "baseline",
		"compare the listeners with this baseline file; without it, the default file (~/.config/portwatch/baseline) when it exists")
}

func addLogFlag(fs *pflag.FlagSet, path *string) {
	fs.Var(pathValue{path, "file"}, "log",
		"append every event (a listener opened, closed, unexpected, missing; a new finding) to this file as a JSON line; watch writes them to stdout without it")
}

func addHelpFlag(fs *pflag.FlagSet) {
	// Defined here, not left to cobra, so that it is listed with the others
	// (and checked against the README) before anything is executed.
	fs.BoolP("help", "h", false, "print this help and exit")
}

// newRootCommand defines portwatch's command, its flags and its
// subcommands, setting o. It does not run anything: parseFlags executes it.
func newRootCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "portwatch",
		Short: "a live monitor of this machine's sockets, their processes and their risks",
		Args:  noArguments,
		// run prints errors itself, as one line; cobra would add "Error: "
		// and the whole usage. Subcommands inherit both.
		SilenceErrors: true,
		SilenceUsage:  true,
		// A completion command would be a subcommand the README does not
		// describe.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { writeUsage(c.OutOrStdout(), c) })
	cmd.SetUsageFunc(func(c *cobra.Command) error { writeUsage(c.OutOrStdout(), c); return nil })
	// Cobra would add a "help" command; portwatch's help is --help, and the
	// word is pointed to it.
	cmd.SetHelpCommand(&cobra.Command{
		Use: "help", Hidden: true, Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == cmdWatch || args[0] == "baseline" || args[0] == cmdLab) {
				return errUsage{msg: fmt.Sprintf("unexpected argument \"help\": did you mean portwatch %s --help?", args[0])}
			}
			return errUsage{msg: `unexpected argument "help": did you mean --help?`}
		},
	})

	fs := cmd.Flags()
	fs.SortFlags = false // --help lists them in this order: the modes first
	fs.BoolVar(&o.once, "once", false, "print the sockets as plain-text tables once and exit")
	fs.BoolVar(&o.json, "json", false, "print one snapshot as JSON and exit")
	fs.BoolVar(&o.listening, "listening", false, "only listening sockets (with --once or --json)")
	fs.BoolVar(&o.established, "established", false, "only established connections (with --once or --json)")
	fs.BoolVar(&o.showAll, "all", false, "with --once, also list the sockets in the other TCP states")
	addBaselineFlag(fs, &o.baselinePath)
	addIntervalFlag(fs, &o.interval)
	addLogFlag(fs, &o.logPath)
	fs.BoolVar(&o.bell, "bell", false, "ring the terminal bell when an unexpected listener appears in the monitor")
	fs.BoolVar(&o.readOnly, "read-only", false, "disable ending processes from the monitor (K)")
	fs.BoolVar(&o.resolve, "resolve", false, "show remote addresses as host names in the monitor (makes DNS queries)")
	fs.BoolVar(&o.mouse, "mouse", false, "enable the mouse wheel in the monitor")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours in the monitor (also when NO_COLOR is set)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	addHelpFlag(fs)

	cmd.AddCommand(newWatchCommand(o), newBaselineCommand(o), newLabCommand())
	return cmd
}

// newWatchCommand is portwatch watch: the monitor's polling without a
// terminal, for a service.
func newWatchCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   cmdWatch,
		Short: "poll without a terminal: events as JSON lines, Prometheus metrics",
		Args:  noArgumentsFor("portwatch watch"),
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	addIntervalFlag(fs, &o.interval)
	addBaselineFlag(fs, &o.baselinePath)
	addLogFlag(fs, &o.logPath)
	fs.Var(textfileValue{&o.textfile}, "textfile",
		"rewrite this node_exporter textfile-collector file (ending in .prom) after every poll, atomically")
	fs.Var(addrValue{&o.metricsAddr}, "metrics-addr",
		"serve Prometheus metrics on http://HOST:PORT/metrics; a bare port (19273 or :19273) binds 127.0.0.1 only; off without it")
	fs.BoolVar(&o.metricsSystemdSocket, "metrics-systemd-socket", false,
		"serve Prometheus metrics on the socket systemd passes (LISTEN_FDS; deploy/systemd/portwatch-watch.socket), which holds the port across restarts")
	addHelpFlag(fs)
	return cmd
}

// newBaselineCommand is portwatch baseline, whose one command is save.
func newBaselineCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "the file of expected listeners",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return errUsage{msg: fmt.Sprintf("unknown command %q for portwatch baseline: the command is save", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return errUsage{msg: "baseline needs a command: portwatch baseline save [FILE]"}
		},
	}
	addHelpFlag(cmd.Flags())
	save := &cobra.Command{
		Use:   "save [FILE]",
		Short: "save the listeners of now as the baseline, in FILE or the default file",
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return errUsage{msg: fmt.Sprintf("baseline save takes one file at most; found %d arguments", len(args))}
			case len(args) == 1 && args[0] == "":
				return errUsage{msg: `invalid file "": want a file's path`}
			}
			return nil
		},
	}
	addHelpFlag(save.Flags())
	cmd.AddCommand(save)
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
	watch, _, _ := cmd.Find([]string{cmdWatch})
	watch.RunE = func(*cobra.Command, []string) error {
		ran, o.command = true, cmdWatch
		return nil
	}
	// The lab runs from dispatch, like every command: a failure there is
	// not a command-line mistake.
	labCmd, _, _ := cmd.Find([]string{cmdLab})
	labCmd.RunE = func(c *cobra.Command, _ []string) error {
		ran, o.command = true, cmdLab
		o.labNoNetns, _ = c.Flags().GetBool("no-netns")
		return nil
	}
	save, _, _ := cmd.Find([]string{"baseline", "save"})
	save.RunE = func(_ *cobra.Command, args []string) error {
		ran, o.command = true, cmdBaselineSave
		if len(args) == 1 {
			o.saveTo = args[0]
		}
		return nil
	}
	// Never nil: cobra reads os.Args when given nil.
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(stdout)
	cmd.SetErr(io.Discard)
	c, err := cmd.ExecuteC()
	if err != nil {
		var u errUsage
		if !errors.As(err, &u) {
			// Cobra's own, should there be any: still one line.
			u = errUsage{msg: strings.Join(strings.Fields(err.Error()), " ")}
		}
		if c != nil && c != cmd && c.Name() != "help" {
			u.see = c.CommandPath()
		}
		return o, u
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
		return errUsage{msg: fmt.Sprintf("unexpected argument %q: portwatch takes flags, or a command (watch, baseline save, lab)", args[0])}
	}
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

// noArguments refuses positional arguments. A word that is a flag's name
// without its dashes ("portwatch once") is pointed to the flag.
func noArguments(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q: portwatch takes flags, or a command (watch, baseline save, lab)", args[0])
	if f := c.Flags().Lookup(args[0]); f != nil {
		msg = fmt.Sprintf("unexpected argument %q: did you mean --%s?", args[0], f.Name)
	}
	return errUsage{msg: msg}
}

// noArgumentsFor refuses positional arguments to a subcommand.
func noArgumentsFor(name string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unexpected argument %q: %s takes flags only", args[0], name)
		if f := c.Flags().Lookup(args[0]); f != nil {
			msg = fmt.Sprintf("unexpected argument %q: did you mean --%s?", args[0], f.Name)
		}
		return errUsage{msg: msg}
	}
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
	if p, err := strconv.ParseUint(portText, 10, 16); err != nil || p == 0 {
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

// writeUsage is --help, for the root command and each subcommand.
func writeUsage(w io.Writer, c *cobra.Command) {
	switch c.CommandPath() {
	case "portwatch watch":
		fmt.Fprint(w, `portwatch watch: poll the sockets without a terminal, for a service.

Usage:
  portwatch watch [flags]

Every --interval, portwatch reads the sockets as the monitor does and writes
each event (a listener opened, closed, unexpected, changed or missing; a new
finding) as one JSON line to --log, or to stdout. --textfile and
--metrics-addr export the state as Prometheus metrics. SIGTERM or SIGINT
stops it (exit 0); SIGHUP reads the baseline file again.

Flags:
`)
		fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
		return
	case "portwatch lab":
		fmt.Fprint(w, `portwatch lab: a guided scene of real sockets for a class.

Usage:
  portwatch lab [flags]

Nine steps, each making something real happen (a server listens, a client
connects and closes, CLOSE_WAIT piles up, filtered against closed, loopback
against all interfaces, a backdoor, cleartext against TLS, a scan), shown in
the monitor with a narration: n or space for the next step, b to go back, q
to quit. As root it runs in a network namespace of its own; q, Ctrl+C or a
crash leave no socket, process or namespace behind.

Flags:
`)
		fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
		return
	case "portwatch baseline", "portwatch baseline save":
		fmt.Fprint(w, `portwatch baseline save: save the listeners of now as the expected ones.

Usage:
  portwatch baseline save [FILE]

Writes one line per listener (netns, protocol, address, port, program, user)
to FILE, or to the default file (~/.config/portwatch/baseline). Edit it by
hand; --baseline FILE compares the listeners with it (the monitor, --once,
--json and watch use the default file when it exists).

Flags:
`)
		fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
		return
	}
	fmt.Fprintf(w, "portwatch: %s.\n\n", c.Short)
	fmt.Fprint(w, `Usage:
  portwatch [flags]                 the interactive monitor
  portwatch --once [flags]          print tables and exit
  portwatch --json [flags]          print a JSON snapshot and exit
  portwatch watch [flags]           poll without a terminal (events, metrics)
  portwatch baseline save [FILE]    save the listeners of now as the baseline
  portwatch lab [flags]             a guided scene of real sockets for a class

Flags:
`)
	fmt.Fprint(w, c.Flags().FlagUsagesWrapped(80))
	fmt.Fprint(w, `
--listening, --established and --all narrow --once (and the first two --json);
--interval, --log, --bell, --read-only, --resolve, --mouse and --no-color are
for the monitor. With a baseline, --once exits 1 when a listener is
unexpected, changed or missing. Flags that would do nothing together are
refused. portwatch watch --help, portwatch baseline save --help and portwatch
lab --help describe the commands.

Run as root to see the owners of every socket.
`)
}
