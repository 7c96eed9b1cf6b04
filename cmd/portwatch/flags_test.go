//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	mathbits "math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parseRoot parses a command line of the root command, running nothing: it
// returns the settings the root's runner was given, and whether it was
// called (not for --help, nor a mistake).
func parseRoot(args []string, stdout io.Writer) (rootSettings, bool, error) {
	var got rootSettings
	ran := false
	root := newRootCommand(func(s rootSettings, _, _ io.Writer) error { got, ran = s, true; return nil })
	err := execute(root, args, stdout, io.Discard)
	return got, ran, err
}

// parseSub parses a command line of the subcommand build makes, under a
// root that runs nothing: it returns the settings the subcommand's runner
// was given, and whether it was called.
func parseSub[S any](args []string, build func(runner[S]) *cobra.Command) (S, bool, error) {
	var got S
	ran := false
	root := newRootCommand(func(rootSettings, io.Writer, io.Writer) error { return errors.New("the root ran") })
	root.AddCommand(build(func(s S, _, _ io.Writer) error { got, ran = s, true; return nil }))
	err := execute(root, args, io.Discard, io.Discard)
	return got, ran, err
}

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// wantUsageError checks the shape of every command-line mistake: exit code
// 2, nothing on stdout, one line on stderr that says where help is.
func wantUsageError(t *testing.T, args []string) string {
	t.Helper()
	code, out, errOut := runArgs(t, args...)
	if code != 2 || out != "" {
		t.Errorf("%q: exit %d, stdout %.200q; want 2 and nothing", args, code, out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "portwatch: ") ||
		!strings.HasSuffix(errOut, " (see portwatch --help)\n") || strings.Contains(errOut, "Error:") {
		t.Errorf("%q: stderr %q, want one line \"portwatch: ... (see portwatch --help)\"", args, errOut)
	}
	return errOut
}

// TestFlagMistakesAreOneExactLine: each mistake says what is wrong, naming
// the flag and the value, and what would be accepted.
func TestFlagMistakesAreOneExactLine(t *testing.T) {
	const interval = "want a duration such as 500ms, 2s or 2 (seconds), from 100ms to 1h"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--bogus=1", "--once"}, "unknown flag --bogus"},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"-xy"}, "unknown flag -x in -xy"},
		{[]string{"-once"}, "unknown flag -once: long flags take two dashes, --once"},
		{[]string{"-test.v"}, "unknown flag -test.v"},
		{[]string{"---once"}, `bad flag syntax "---once": write --name or --name=value`},
		{[]string{"--interval"}, "--interval needs a value"},
		{[]string{"--interval", "--once"}, "--interval needs a value (it was followed by --once)"},
		{[]string{"--interval", "abc"}, `invalid --interval "abc": ` + interval},
		{[]string{"--interval="}, `invalid --interval "": ` + interval},
		{[]string{"--interval", "Inf"}, `invalid --interval "Inf": ` + interval},
		{[]string{"--interval", "NaN"}, `invalid --interval "NaN": ` + interval},
		{[]string{"--interval", "0x10"}, `invalid --interval "0x10": ` + interval},
		{[]string{"--interval", "0"}, `invalid --interval "0": too short; ` + interval},
		{[]string{"--interval=-1"}, `invalid --interval "-1": too short; ` + interval},
		{[]string{"--interval=-1s"}, `invalid --interval "-1s": too short; ` + interval},
		{[]string{"--interval", "5ms"}, `invalid --interval "5ms": too short; ` + interval},
		{[]string{"--interval", "0.0000000001"}, `invalid --interval "0.0000000001": too short; ` + interval},
		{[]string{"--interval=1e10"}, `invalid --interval "1e10": too long; ` + interval},
		{[]string{"--interval", "99999999999999999999"}, `invalid --interval "99999999999999999999": too long; ` + interval},
		{[]string{"--interval", "3601"}, `invalid --interval "3601": too long; ` + interval},
		{[]string{"--interval", "2h"}, `invalid --interval "2h": too long; ` + interval},
		{[]string{"--interval", "9999999999999999h"}, `invalid --interval "9999999999999999h": ` + interval},
		{[]string{"--once=maybe"}, `invalid --once "maybe": it takes true or false, or no value (--once alone means true)`},
		{[]string{"--json="}, `invalid --json "": it takes true or false, or no value (--json alone means true)`},
		{[]string{"now"}, `unexpected argument "now": portwatch takes flags, or a command (baseline save, completion, lab, man, watch)`},
		{[]string{"--once", "--", "x"}, `unexpected argument "x": portwatch takes flags, or a command (baseline save, completion, lab, man, watch)`},
		{[]string{"help"}, `unexpected argument "help": did you mean --help?`},
		{[]string{"help", "watch"}, `unexpected argument "help": did you mean portwatch watch --help?`},
		{[]string{"json"}, `unexpected argument "json": did you mean --json?`},
		{[]string{"--baseline"}, "--baseline needs a value"},
		{[]string{"--baseline="}, `invalid --baseline "": want a file's path`},
		{[]string{"--log", "--once"}, "--log needs a value (it was followed by --once)"},
		{[]string{"--bell=sometimes"}, `invalid --bell "sometimes": it takes true or false, or no value (--bell alone means true)`},
		{[]string{"--textfile", "x.prom"}, "unknown flag --textfile"},
	}
	for _, c := range cases {
		got := wantUsageError(t, c.args)
		if want := "portwatch: " + c.want + " (see portwatch --help)\n"; got != want {
			t.Errorf("%q:\n got %q\nwant %q", c.args, got, want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 100 * time.Millisecond: "100ms", 10 * time.Second: "10s", time.Minute: "1m",
		90 * time.Minute: "1h30m", 2*time.Hour + 5*time.Second: "2h0m5s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestIntervalForms(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"500ms": 500 * time.Millisecond, "2s": 2 * time.Second, "2": 2 * time.Second, "0.25": 250 * time.Millisecond,
		"100ms": 100 * time.Millisecond, "0.1": 100 * time.Millisecond, ".5": 500 * time.Millisecond,
		"1h": time.Hour, "3600": time.Hour, "1m30s": 90 * time.Second, "+2s": 2 * time.Second, "1e-1": 100 * time.Millisecond,
	} {
		o, _, err := parseRoot([]string{"--interval", in}, &bytes.Buffer{})
		if err != nil || o.interval != want {
			t.Errorf("--interval %s: %v %v, want %v", in, o.interval, err, want)
		}
	}
	if o, ran, err := parseRoot(nil, &bytes.Buffer{}); err != nil || !ran || o.interval != time.Second {
		t.Errorf("default interval %v %v, want 1s", o.interval, err)
	}
}

func TestHelpListsEveryFlagAndVersionPrints(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--once", "--json", "--help"}, {"--help", "stray"}, {"--help=true"}} {
		code, out, errOut := runArgs(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "portwatch: a live monitor") {
			t.Fatalf("%q: exit %d, stderr %q, stdout %q", args, code, errOut, out)
		}
		for _, name := range definedFlags() {
			if !strings.Contains(out, "--"+name) {
				t.Errorf("--help does not list --%s", name)
			}
		}
	}
	code, out, errOut := runArgs(t, "--version")
	if code != 0 || out != readBuildStamp().String()+"\n" || !strings.HasPrefix(out, "portwatch "+version+", commit ") || errOut != "" {
		t.Errorf("--version: %d %q %q", code, out, errOut)
	}
}

// definedFlags lists portwatch's flags in --help order.
func definedFlags() []string {
	return flagNames(newRootCommand(nil).Flags())
}

// The specification of flag combinations, written out independently of
// flags.go. Each flag is honoured or refused in each mode; refusals name
// what to use instead. "" means honoured.
var (
	modes = []string{"monitor", "once", "json"}

	flagInMode = map[string]map[string]string{
		"listening":   {"monitor": "the Listening tab (key 1)", "once": "", "json": ""},
		"established": {"monitor": "the Established tab (key 2)", "once": "", "json": ""},
		"all":         {"monitor": "the All states tab (key 3)", "once": "", "json": `--json always lists every state (filter on "kind" instead)`},
		"interval":    {"monitor": "", "once": "watch -n 2 portwatch --once", "json": "watch -n 2 portwatch --json"},
		"read-only":   {"monitor": "", "once": "--read-only is for the monitor", "json": "--read-only is for the monitor"},
		"resolve":     {"monitor": "", "once": "--resolve is for the monitor", "json": "--resolve is for the monitor"},
		"mouse":       {"monitor": "", "once": "--mouse is for the monitor", "json": "--mouse is for the monitor"},
		"no-color":    {"monitor": "", "once": "--no-color is for the monitor", "json": "--no-color is for the monitor"},
		"baseline":    {"monitor": "", "once": "", "json": ""},
		"log":         {"monitor": "", "once": "--log is for the monitor and portwatch watch", "json": "--log is for the monitor and portwatch watch"},
		"bell":        {"monitor": "", "once": "--bell is for the monitor", "json": "--bell is for the monitor"},
		"log-format":  {"monitor": "", "once": "--log-format is for the monitor's --log and portwatch watch", "json": "--log-format is for the monitor's --log and portwatch watch"},
	}

	// Flags that do something only with another: refused without it.
	flagNeeds = map[string]struct{ needs, why string }{
		"log-format": {"log", "give --log FILE too"},
	}

	// Pairs refused in every mode where both flags are honoured alone.
	pairRefused = map[[2]string]string{
		{"listening", "established"}: "--listening and --established exclude each other: leave both out for every socket",
		{"listening", "all"}:         "--all lists every state and --listening keeps the listeners only: use one or the other",
		{"established", "all"}:       "--all lists every state and --established keeps the connections only: use one or the other",
		{"established", "baseline"}:  "--baseline compares the listeners, which --established leaves out: use one or the other",
	}
)

// specRefuses says whether the specification refuses a set of flags.
func specRefuses(set map[string]bool) bool {
	switch {
	case set["help"]:
		return false // help wins
	case set["version"]:
		return len(set) > 1 // --version prints the version only
	case set["once"] && set["json"]:
		return true
	}
	mode := "monitor"
	if set["once"] {
		mode = "once"
	} else if set["json"] {
		mode = "json"
	}
	for f := range set {
		if f != "once" && f != "json" && flagInMode[f][mode] != "" {
			return true
		}
	}
	for pair := range pairRefused {
		if set[pair[0]] && set[pair[1]] {
			return true
		}
	}
	for f, n := range flagNeeds {
		if set[f] && !set[n.needs] {
			return true
		}
	}
	return false
}

func argsFor(set map[string]bool) []string {
	var args []string
	for _, name := range definedFlags() {
		if set[name] {
			switch name {
			case "interval":
				args = append(args, "--interval=2s")
			case "baseline", "log":
				args = append(args, "--"+name+"=/nowhere/"+name)
			case "log-format":
				args = append(args, "--log-format=ecs")
			default:
				args = append(args, "--"+name)
			}
		}
	}
	return args
}

// TestFlagCombinations tries every combination of portwatch's flags: each is
// either honoured (parsed into the options, nothing ignored) or refused with
// one line, as the specification above says; and the refusals of one flag in
// a mode, or of one pair, say what to use instead.
func TestFlagCombinations(t *testing.T) {
	names := definedFlags()
	for _, f := range names {
		if _, ok := flagInMode[f]; !ok && !slices.Contains([]string{"once", "json", "version", "help"}, f) {
			t.Fatalf("--%s is missing from the test's specification of combinations", f)
		}
	}
	newRootCommand(nil).Flags().VisitAll(func(f *pflag.Flag) {
		if typ := f.Value.Type(); typ != "bool" && !slices.Contains([]string{"interval", "baseline", "log", "log-format"}, f.Name) {
			t.Fatalf("--%s is a %s: teach argsFor a value for it", f.Name, typ)
		}
	})
	if len(names) > 16 {
		t.Fatalf("%d flags: too many to try every combination", len(names))
	}
	for bits := 0; bits < 1<<len(names); bits++ {
		// Every rule of the specification is about a mode, a flag and at
		// most one other flag (or help, or version): -short tries every
		// combination of up to four flags, a twenty-sixth of them all.
		if testing.Short() && mathbits.OnesCount(uint(bits)) > 4 {
			continue
		}
		set := map[string]bool{}
		for i, name := range names {
			if bits&(1<<i) != 0 {
				set[name] = true
			}
		}
		args := argsFor(set)
		var stdout bytes.Buffer
		o, ran, err := parseRoot(args, &stdout)
		var u errUsage
		switch {
		case set["help"]:
			if err != nil || ran || stdout.Len() == 0 {
				t.Errorf("%q: %v (ran %v), want the help", args, err, ran)
			}
		case specRefuses(set):
			if !errors.As(err, &u) || strings.Contains(u.msg, "\n") {
				t.Errorf("%q accepted (%v), want it refused with one line", args, err)
			}
		case err != nil || !ran:
			t.Errorf("%q refused: %v", args, err)
		default:
			got := map[string]bool{"once": o.once, "json": o.json, "listening": o.listening, "established": o.established,
				"all": o.showAll, "interval": o.interval == 2*time.Second, "read-only": o.readOnly, "resolve": o.resolve,
				"mouse": o.mouse, "no-color": o.noColor, "version": o.version,
				"baseline": o.baselinePath == "/nowhere/baseline", "log": o.logPath == "/nowhere/log", "bell": o.bell,
				"log-format": o.logFormat == logFormatECS}
			for name, on := range got {
				if on != set[name] {
					t.Errorf("%q: --%s parsed as %v", args, name, on)
				}
			}
		}
	}

	// The messages: one flag in a mode, one pair in a mode.
	for _, mode := range modes {
		base := []string{}
		if mode != "monitor" {
			base = []string{"--" + mode}
		}
		for f, byMode := range flagInMode {
			args := argsFor(map[string]bool{f: true, mode: mode != "monitor"})
			want := byMode[mode]
			if n, ok := flagNeeds[f]; ok && want == "" {
				if got := wantUsageError(t, args); !strings.Contains(got, "--"+f) || !strings.Contains(got, n.why) {
					t.Errorf("%q: %q, want it to name --%s and say %q", args, got, f, n.why)
				}
				args = argsFor(map[string]bool{f: true, n.needs: true, mode: mode != "monitor"})
			}
			if want == "" {
				if _, _, err := parseRoot(args, &bytes.Buffer{}); err != nil {
					t.Errorf("%q refused: %v", args, err)
				}
				continue
			}
			if got := wantUsageError(t, args); !strings.Contains(got, "--"+f) || !strings.Contains(got, want) {
				t.Errorf("%q: %q, want it to name --%s and say %q", args, got, f, want)
			}
		}
		for pair, want := range pairRefused {
			if flagInMode[pair[0]][mode] != "" || flagInMode[pair[1]][mode] != "" {
				continue // refused alone already
			}
			args := append(append([]string{}, base...), argsFor(map[string]bool{pair[0]: true, pair[1]: true})...)
			if got := wantUsageError(t, args); !strings.Contains(got, want) {
				t.Errorf("%q: %q, want %q", args, got, want)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--once", "--json"}, "--once and --json exclude each other: --once prints tables, --json prints JSON; pick one"},
		{[]string{"--version", "--once"}, "--version prints the version only: drop --once"},
		{[]string{"--no-color", "--version"}, "--version prints the version only: drop --no-color"},
	} {
		if got := wantUsageError(t, c.args); !strings.Contains(got, c.want) {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
	// false is no request: nothing to refuse.
	if _, _, err := parseRoot([]string{"--once", "--mouse=false", "--json=false"}, &bytes.Buffer{}); err != nil {
		t.Errorf("--mouse=false with --once refused: %v", err)
	}
}

// TestHelpWinsOverMistakes: --help or -h anywhere on a command line prints
// that command's help and exits 0, whatever else is wrong on it (a bad
// value, an unknown flag, a stray argument, a combination refused), for the
// root and every subcommand; but not as a flag's value, nor after "--".
func TestHelpWinsOverMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		help string // the help's first words
	}{
		{[]string{"--interval", "0", "--help"}, "portwatch: "},
		{[]string{"--help", "--interval", "0"}, "portwatch: "},
		{[]string{"--nosuch", "-h"}, "portwatch: "},
		{[]string{"-hx"}, "portwatch: "},
		{[]string{"-xh"}, "portwatch: "},
		{[]string{"--once", "--json", "--interval=2", "-h"}, "portwatch: "},
		{[]string{"-test.v", "--help"}, "portwatch: "},
		{[]string{"--version", "--once", "--help"}, "portwatch: "},
		{[]string{"stray", "--help"}, "portwatch: "},
		{[]string{"watch", "--nosuch", "--help"}, "portwatch watch: "},
		{[]string{"watch", "--interval", "0", "-h"}, "portwatch watch: "},
		{[]string{"watch", "--metrics-addr", "nope", "--help"}, "portwatch watch: "},
		{[]string{"watch", "stray", "--help"}, "portwatch watch: "},
		{[]string{"--interval", "0", "watch", "--help"}, "portwatch watch: "},
		{[]string{"baseline", "save", "a", "b", "--help"}, "portwatch baseline save: "},
		{[]string{"baseline", "save", "--once", "-h"}, "portwatch baseline save: "},
		{[]string{"baseline", "load", "--help"}, "portwatch baseline: "},
		{[]string{"lab", "--no-netns=maybe", "--help"}, "portwatch lab: "},
		{[]string{"lab", "start", "--help"}, "portwatch lab: "},
	} {
		code, out, errOut := runArgs(t, c.args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, c.help) || !strings.Contains(out, "\nFlags:\n") {
			t.Errorf("%q: exit %d, stderr %q, stdout %.80q; want 0 and the help starting %q", c.args, code, errOut, out, c.help)
		}
	}
	// Not help: -h as the value of a flag that takes one, or after "--".
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--once", "--", "-h"}, `unexpected argument "-h": portwatch takes flags`},
		{[]string{"--interval", "-h"}, `invalid --interval "-h"`},
		{[]string{"--help=false", "--bogus"}, "unknown flag --bogus"},
	} {
		if got := wantUsageError(t, c.args); !strings.Contains(got, c.want) {
			t.Errorf("%q: %q, want it to say %q", c.args, got, c.want)
		}
	}
}
