//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/portwatch/portwatch/sockets/sockettest"
)

// parseMetrics parses Prometheus text exposition; an error means the text
// is not whole.
func parseMetrics(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// series returns the label sets and values of one family.
func series(mfs map[string]*dto.MetricFamily, name string) []map[string]string {
	var out []map[string]string
	mf := mfs[name]
	if mf == nil {
		return nil
	}
	for _, m := range mf.Metric {
		l := map[string]string{}
		for _, lp := range m.Label {
			l[lp.GetName()] = lp.GetValue()
		}
		v := 0.0
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		}
		l["__value__"] = strconv.FormatFloat(v, 'g', -1, 64)
		out = append(out, l)
	}
	return out
}

// listenerSeries finds portwatch_listening's series for a loopback TCP port.
func listenerSeries(mfs map[string]*dto.MetricFamily, port int) map[string]string {
	for _, l := range series(mfs, "portwatch_listening") {
		if l["port"] == strconv.Itoa(port) && l["proto"] == "tcp" && l["address"] == "127.0.0.1" {
			return l
		}
	}
	return nil
}

func gaugeValue(mfs map[string]*dto.MetricFamily, name string) (float64, bool) {
	mf := mfs[name]
	if mf == nil || len(mf.Metric) != 1 || mf.Metric[0].Gauge == nil {
		return 0, false
	}
	return mf.Metric[0].Gauge.GetValue(), true
}

// TestWatchReportsUnexpectedAndMissing runs portwatch watch as a service
// would (the built binary, --interval 200ms, --log, --textfile and
// --metrics-addr on loopback) against a baseline saved by the binary while
// this test listened on one port. A new listener of the test's appears as
// an unexpected-listener event in the log and as expected="no" in both the
// textfile and /metrics; closing the listener the baseline names gives a
// missing-listener event, portwatch_missing_listeners >= 1, and its
// portwatch_listening series is gone. promtool check metrics accepts the
// textfile. SIGTERM ends it within a second with exit code 0, and the log
// holds whole lines only, each with exactly the event keys.
func TestWatchReportsUnexpectedAndMissing(t *testing.T) {
	sockettest.SkipShort(t, "the built binary, for seconds")
	bin := sharedBinary(t)
	dir := t.TempDir()
	kept, keptPort := listenFixed(t)
	base := filepath.Join(dir, "baseline")
	if out, err := exec.Command(bin, "baseline", "save", base).CombinedOutput(); err != nil {
		t.Fatalf("baseline save: %v: %s", err, out)
	}
	logFile, textfile := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "textfile", "portwatch.prom")
	os.Mkdir(filepath.Dir(textfile), 0o755)
	metricsPort := freePort(t)
	w := startWatch(t, "--interval", "200ms", "--baseline", base, "--log", logFile, "--textfile", textfile,
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort))
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	events := func() []eventLine {
		b, _ := os.ReadFile(logFile)
		evs, err := readEvents(t, string(b))
		if err != nil {
			t.Fatalf("the event log: %v", err)
		}
		return evs
	}
	scrape := func() (map[string]*dto.MetricFamily, string) {
		body, err := httpGet(metricsURL)
		if err != nil {
			return nil, err.Error()
		}
		mfs, err := parseMetrics(body)
		if err != nil {
			t.Fatalf("/metrics does not parse: %v", err)
		}
		return mfs, body
	}
	readTextfile := func() map[string]*dto.MetricFamily {
		b, err := os.ReadFile(textfile)
		if err != nil {
			return nil
		}
		mfs, err := parseMetrics(string(b))
		if err != nil {
			t.Fatalf("the textfile does not parse: %v", err)
		}
		return mfs
	}
	// Started: the textfile and /metrics exist and name the listener we kept as expected.
	waitFor(t, 30*time.Second, "watch's first poll", func() (bool, string) {
		mfs, body := scrape()
		l := listenerSeries(mfs, keptPort)
		return l != nil && l["expected"] == "yes" && readTextfile() != nil, body + "\nstderr: " + w.stderrText()
	})

	_, newPort := listenFixed(t)
	waitFor(t, 30*time.Second, "the new listener's unexpected-listener event", func() (bool, string) {
		return findEvent(events(), "unexpected-listener", newPort) != nil, fmt.Sprint(events())
	})
	e := findEvent(events(), "unexpected-listener", newPort)
	exe, _ := os.Executable()
	if e.PID != os.Getpid() || e.Exe != exe || e.Address != "127.0.0.1" || e.Proto != "tcp" || e.Risk != "HIGH" ||
		!slices.Contains(e.Codes, "unexpected-listener") || e.Netns != "host" {
		t.Errorf("the unexpected-listener event: %+v; want our pid %d and exe %s, 127.0.0.1, tcp, HIGH", e, os.Getpid(), exe)
	}
	for what, get := range map[string]func() map[string]*dto.MetricFamily{
		"/metrics": func() map[string]*dto.MetricFamily { m, _ := scrape(); return m },
		"textfile": readTextfile,
	} {
		waitFor(t, 5*time.Second, what+" says the new listener is unexpected", func() (bool, string) {
			mfs := get()
			l := listenerSeries(mfs, newPort)
			n, ok := gaugeValue(mfs, "portwatch_unexpected_listeners")
			return l != nil && l["expected"] == "no" && l["program"] != "" && l["__value__"] == "1" && ok && n >= 1,
				fmt.Sprintf("series %v, unexpected %v", l, n)
		})
	}

	kept.Close()
	waitFor(t, 30*time.Second, "the closed listener's missing-listener event", func() (bool, string) {
		evs := events()
		return findEvent(evs, "missing-listener", keptPort) != nil && findEvent(evs, "listener-closed", keptPort) != nil, fmt.Sprint(evs)
	})
	if m := findEvent(events(), "missing-listener", keptPort); m.Address != "127.0.0.1" || !strings.Contains(m.Text, base) {
		t.Errorf("the missing-listener event %+v: want 127.0.0.1 and the baseline's path in the text", m)
	}
	waitFor(t, 5*time.Second, "/metrics drops the closed listener and counts it missing", func() (bool, string) {
		mfs, body := scrape()
		n, ok := gaugeValue(mfs, "portwatch_missing_listeners")
		return listenerSeries(mfs, keptPort) == nil && ok && n >= 1, body
	})
	mfs := readTextfile()
	for _, name := range []string{"portwatch_build_info", "portwatch_connections", "portwatch_findings", "portwatch_poll_duration_seconds",
		"portwatch_listening", "portwatch_unexpected_listeners", "portwatch_missing_listeners"} {
		if mfs[name] == nil {
			t.Errorf("the textfile lacks %s", name)
		}
	}
	for _, l := range series(mfs, "portwatch_findings") {
		if l["code"] == "" || !slices.Contains([]string{"INFO", "LOW", "MEDIUM", "HIGH"}, l["severity"]) {
			t.Errorf("portwatch_findings series %v", l)
		}
	}
	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := needTool(t, "promtool", "prometheus")
		b, _ := os.ReadFile(textfile)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(b))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics on the textfile: %v\n%s", err, out)
		}
	})

	if code := w.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("watch after SIGTERM: exit %d, want 0; stderr:\n%s", code, w.stderrText())
	}
	events() // whole lines, every key
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(textfile), ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left next to the textfile: %v", leftovers)
	}
	if s := w.stderrText(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "portwatch watch: every 200ms, baseline "+base) {
		t.Errorf("watch's stderr: %q, want one line saying what it does", s)
	}
}

// TestWatchSIGTERMLeavesWholeTextfile sends SIGTERM to watch at random
// moments, many times, with a poll every 100ms, a textfile rewritten after
// each and the metrics served: each run ends within a second with exit
// code 0, the textfile always parses completely (the last whole poll), and
// no temporary file is left beside it.
func TestWatchSIGTERMLeavesWholeTextfile(t *testing.T) {
	sockettest.SkipShort(t, "the built binary, run 25 times")
	dir := t.TempDir()
	textfile := filepath.Join(dir, "portwatch.prom")
	deadline := time.Now().Add(40 * time.Second)
	runs := 0
	for ; runs < 25 && time.Now().Before(deadline); runs++ {
		w := startWatch(t, "--interval", "100ms", "--textfile", textfile, "--log", filepath.Join(dir, "events.jsonl"),
			"--metrics-addr", strconv.Itoa(freePort(t)))
		// Started (its signal handlers are in place once it says so, and a
		// textfile exists), then a random moment: mid-poll or between polls.
		waitFor(t, 30*time.Second, "watch's start", func() (bool, string) {
			_, err := os.Stat(textfile)
			return err == nil && strings.HasPrefix(w.stderrText(), "portwatch watch: every"), w.stderrText()
		})
		// Not a guess: the random moment is what is tested.
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		if code := w.stop(syscall.SIGTERM); code != 0 {
			t.Fatalf("run %d: exit %d after SIGTERM, want 0; stderr:\n%s", runs, code, w.stderrText())
		}
		b, err := os.ReadFile(textfile)
		if err != nil {
			t.Fatal(err)
		}
		mfs, err := parseMetrics(string(b))
		if err != nil || mfs["portwatch_build_info"] == nil || mfs["portwatch_last_poll_timestamp_seconds"] == nil || !strings.HasSuffix(string(b), "\n") {
			t.Fatalf("run %d: the textfile after SIGTERM is not whole (%v):\n%s", runs, err, b)
		}
		if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
			t.Fatalf("run %d: temporary files left: %v", runs, leftovers)
		}
		b, _ = os.ReadFile(filepath.Join(dir, "events.jsonl"))
		if _, err := readEvents(t, string(b)); err != nil {
			t.Fatalf("run %d: the event log: %v", runs, err)
		}
	}
	if runs < 10 {
		t.Errorf("only %d runs in the time allowed", runs)
	}
}

// TestWatchBarePortBindsLoopbackOnly: --metrics-addr PORT serves on
// 127.0.0.1 alone, which watch's own first events show (its listener is not
// in any baseline), and SIGINT ends it like SIGTERM. Without --log the
// events go to stdout.
func TestWatchBarePortBindsLoopbackOnly(t *testing.T) {
	sockettest.SkipShort(t, "the built binary")
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline")
	os.WriteFile(base, []byte("# nothing is expected\n"), 0o644)
	port := freePort(t)
	out := &strings.Builder{}
	w := &watchProc{t: t, stderr: &strings.Builder{}, done: make(chan struct{})}
	w.cmd = exec.Command(sharedBinary(t), "watch", "--interval", "200ms", "--baseline", base, "--metrics-addr", strconv.Itoa(port))
	w.cmd.Stdout, w.cmd.Stderr = lockedWriter{&w.mu, out}, lockedWriter{&w.mu, w.stderr}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { w.cmd.Process.Kill(); <-w.done })
	stdout := func() string { w.mu.Lock(); defer w.mu.Unlock(); return out.String() }
	var own *eventLine
	waitFor(t, 30*time.Second, "watch's event about its own listener", func() (bool, string) {
		text := stdout()
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			evs, err := readEvents(t, text[:i+1])
			if err != nil {
				t.Fatal(err)
			}
			own = findEvent(evs, "unexpected-listener", port)
		}
		return own != nil, text
	})
	if own.Address != "127.0.0.1" || own.PID != w.cmd.Process.Pid {
		t.Errorf("--metrics-addr %d: watch's listener is %+v, want 127.0.0.1 and pid %d", port, own, w.cmd.Process.Pid)
	}
	if _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); err != nil {
		t.Error(err)
	}
	if code := w.stop(syscall.SIGINT); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
}

// TestSubcommandMistakes: the subcommands' mistakes are one line and exit
// code 2, like the root's, pointing to the subcommand's own help.
func TestSubcommandMistakes(t *testing.T) {
	const addr = "want HOST:PORT (127.0.0.1:19273, [::1]:19273) or a port (19273, binding 127.0.0.1)"
	for _, c := range []struct {
		args      []string
		want, see string
	}{
		{[]string{"watch", "--bogus"}, "unknown flag --bogus", "portwatch watch"},
		{[]string{"watch", "-x"}, "unknown flag -x", "portwatch watch"},
		{[]string{"watch", "-interval", "2s"}, "unknown flag -interval: long flags take two dashes, --interval", "portwatch watch"},
		{[]string{"watch", "--once"}, "unknown flag --once", "portwatch watch"},
		{[]string{"--once", "watch"}, "unknown flag --once", "portwatch watch"},
		{[]string{"watch", "now"}, `unexpected argument "now": portwatch watch takes flags only`, "portwatch watch"},
		{[]string{"watch", "textfile"}, `unexpected argument "textfile": did you mean --textfile?`, "portwatch watch"},
		{[]string{"watch", "--interval", "5ms"}, `invalid --interval "5ms": too short; want a duration such as 500ms, 2s or 2 (seconds), from 100ms to 1h`, "portwatch watch"},
		{[]string{"watch", "--interval"}, "--interval needs a value", "portwatch watch"},
		{[]string{"watch", "--log", "--textfile", "x.prom"}, "--log needs a value (it was followed by --textfile)", "portwatch watch"},
		{[]string{"watch", "--baseline="}, `invalid --baseline "": want a file's path`, "portwatch watch"},
		{[]string{"watch", "--textfile", "metrics.txt"}, `invalid --textfile "metrics.txt": node_exporter's textfile collector reads only files ending in .prom`, "portwatch watch"},
		{[]string{"watch", "--textfile", "/var/lib/node/"}, `invalid --textfile "/var/lib/node/": want a file's path ending in .prom, in node_exporter's --collector.textfile.directory`, "portwatch watch"},
		{[]string{"watch", "--metrics-addr", "abc"}, `invalid --metrics-addr "abc": ` + addr, "portwatch watch"},
		{[]string{"watch", "--metrics-addr", "localhost:http"}, `invalid --metrics-addr "localhost:http": port "http": ` + addr, "portwatch watch"},
		{[]string{"watch", "--metrics-addr", ":0"}, `invalid --metrics-addr ":0": port 0 would be one the kernel picks, which no scraper can be told: name the port; ` + addr, "portwatch watch"},
		{[]string{"watch", "--metrics-addr", "70000"}, `invalid --metrics-addr "70000": ` + addr, "portwatch watch"},
		{[]string{"watch", "--metrics-addr", "::1:9273"}, `invalid --metrics-addr "::1:9273": ` + addr, "portwatch watch"},
		{[]string{"baseline"}, "baseline needs a command: portwatch baseline save [FILE]", "portwatch baseline"},
		{[]string{"baseline", "load"}, `unknown command "load" for portwatch baseline: the command is save`, "portwatch baseline"},
		{[]string{"baseline", "save", "a", "b"}, "baseline save takes one file at most; found 2 arguments", "portwatch baseline save"},
		{[]string{"baseline", "save", ""}, `invalid file "": want a file's path`, "portwatch baseline save"},
		{[]string{"baseline", "save", "--once"}, "unknown flag --once", "portwatch baseline save"},
	} {
		code, out, errOut := runArgs(t, c.args...)
		want := "portwatch: " + c.want + " (see " + c.see + " --help)\n"
		if code != 2 || out != "" || errOut != want {
			t.Errorf("%q: exit %d, stdout %.100q, stderr %q; want 2, nothing and %q", c.args, code, out, errOut, want)
		}
	}
	// Their help: exit 0, on stdout, listing their flags.
	for _, args := range [][]string{{"watch", "--help"}, {"watch", "-h"}, {"baseline", "save", "--help"}, {"baseline", "--help"}} {
		code, out, errOut := runArgs(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "portwatch "+args[0]) {
			t.Errorf("%q: exit %d, stderr %q, stdout %.200q", args, code, errOut, out)
		}
	}
	if _, out, _ := runArgs(t, "watch", "--help"); !strings.Contains(out, "--textfile") || !strings.Contains(out, "--metrics-addr") {
		t.Errorf("watch --help lacks its flags:\n%s", out)
	}
}

// TestWatchFlags: what watch's flags parse into; a bare port binds loopback.
func TestWatchFlags(t *testing.T) {
	for in, want := range map[string]string{
		"9273": "127.0.0.1:9273", ":9273": "127.0.0.1:9273", "127.0.0.1:9273": "127.0.0.1:9273",
		"[::1]:9273": "[::1]:9273", "0.0.0.0:9273": "0.0.0.0:9273", "10.1.2.3:80": "10.1.2.3:80", "localhost:9273": "localhost:9273",
	} {
		o, ran, err := parseSub([]string{"watch", "--metrics-addr", in}, newWatchCommand)
		if err != nil || o.metricsAddr != want || !ran {
			t.Errorf("--metrics-addr %s: %q %v, want %q", in, o.metricsAddr, err, want)
		}
	}
	o, _, err := parseSub([]string{"watch", "--interval", "2", "--baseline", "b", "--log", "l", "--textfile", "/x/p.prom"}, newWatchCommand)
	if err != nil || o.interval != 2*time.Second || o.baselinePath != "b" || o.logPath != "l" || o.textfile != "/x/p.prom" || o.metricsAddr != "" {
		t.Errorf("watch flags: %+v %v", o, err)
	}
	if o, _, err := parseSub([]string{"watch"}, newWatchCommand); err != nil || o.interval != time.Second {
		t.Errorf("watch's default interval: %v %v, want 1s", o.interval, err)
	}
	s, ran, err := parseSub([]string{"baseline", "save", "/tmp/b"}, newBaselineCommand)
	if err != nil || !ran || s.saveTo != "/tmp/b" {
		t.Errorf("baseline save /tmp/b: %+v %v", s, err)
	}
}

// TestWatchStartErrors: what a service must be told at once ends watch
// with exit code 1 and a line naming it, before any poll: a textfile or log
// directory that does not exist (portwatch makes none); a metrics address
// already taken is exit 3 (TestWatchMetricsPortHeld).
func TestWatchStartErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--textfile", dir + "/nope/portwatch.prom"}, "portwatch: --textfile " + dir + "/nope/portwatch.prom: directory " + dir + "/nope does not exist (portwatch creates no directories)\n"},
		{[]string{"watch", "--log", dir + "/nope/events.jsonl"}, "portwatch: --log " + dir + "/nope/events.jsonl: directory " + dir + "/nope does not exist (portwatch creates no directories)\n"},
	} {
		code, out, errOut := runArgs(t, c.args...)
		if code != 1 || out != "" || !strings.HasSuffix(errOut, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 and stderr ending %q", c.args, code, out, errOut, c.want)
		}
	}
}
